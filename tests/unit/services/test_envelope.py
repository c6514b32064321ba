"""The envelope: what survives encoding, and what a reader refuses."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from tradebot.services.bus import Envelope, EnvelopeError, Family, UnsupportedEnvelope


def _bar() -> Envelope:
    return Envelope(
        family=Family.MARKET_DATA,
        type="BarClosed",
        payload={"symbol": "BTC/USDT", "close": "43210.5", "volume": 1.25, "tags": ["a", None]},
        source="market-data:binance",
        created_ms=1_700_000_000_000,
        event_id="binance:BTC/USDT:1m:1700000000000",
    )


def test_envelope_round_trip_keeps_every_field() -> None:
    # Arrange
    sent = _bar()

    # Act
    received = Envelope.from_fields(sent.to_fields())

    # Assert
    assert received == sent
    assert received.version == 1


def test_envelope_unknown_version_is_refused_naming_version_and_fix() -> None:
    # Arrange
    fields = {**_bar().to_fields(), "v": "2"}

    # Act / Assert
    with pytest.raises(UnsupportedEnvelope, match=r"schema version '2'.*reads version 1.*upgrade"):
        Envelope.from_fields(fields)


@pytest.mark.parametrize("bad", [Decimal("1.5"), math.nan, {1, 2}])
def test_envelope_payload_not_json_safe_is_refused_at_publish(bad: object) -> None:
    # Arrange
    envelope = Envelope(Family.SIGNALS, "Signal", {"x": bad}, "strategy", 0)  # type: ignore[dict-item]

    # Act / Assert
    with pytest.raises(EnvelopeError, match="not JSON-safe"):
        envelope.to_fields()


def test_envelope_missing_field_is_refused() -> None:
    # Arrange
    fields = _bar().to_fields()
    del fields["payload"]

    # Act / Assert
    with pytest.raises(EnvelopeError, match=r"lacks envelope fields \['payload'\]"):
        Envelope.from_fields(fields)


def test_envelope_default_event_ids_are_unique() -> None:
    first = Envelope(Family.ALERTS, "Alert", {}, "monitor", 0)
    second = Envelope(Family.ALERTS, "Alert", {}, "monitor", 0)
    assert first.event_id != second.event_id
