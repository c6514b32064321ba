"""The versioned envelope every message on the bus travels in, and the stream families.

A message is a flat map of text fields (what a Redis stream entry holds); the in-memory bus
stores the same encoded fields, so a payload that would not survive Redis fails in the
in-memory tests too. The envelope carries its schema version first: a reader refuses a
version it does not know with :class:`UnsupportedEnvelope` instead of guessing at fields.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from tradebot.domain.errors import TradebotError

SCHEMA_VERSION = 1
"""The envelope layout this tradebot writes and reads."""

SUPPORTED_VERSIONS = frozenset({SCHEMA_VERSION})

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
"""What a payload may hold: it is sent as JSON (no NaN, no Decimal: send amounts as text)."""

_FIELDS = ("v", "id", "family", "type", "created_ms", "source", "payload")


class Family(StrEnum):
    """One stream per family of messages, each read by its own consumer groups."""

    MARKET_DATA = "market_data"
    SIGNALS = "signals"
    ORDER_COMMANDS = "order_commands"
    ORDER_REPORTS = "order_reports"  # order status reports and fills
    ALERTS = "alerts"
    DEAD_LETTERS = "dead_letters"  # messages parked after failing max_deliveries times


class BusError(TradebotError):
    """Something went wrong on the event bus."""


class BusUnavailable(BusError):
    """The bus server could not be reached within the retry budget; safe to retry later."""


class EnvelopeError(BusError):
    """A message is not a valid envelope (missing field, bad JSON, payload not JSON-safe)."""


class UnsupportedEnvelope(EnvelopeError):
    """A message was written with an envelope schema version this tradebot does not read."""

    def __init__(self, version: str, event_id: str) -> None:
        known = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
        super().__init__(
            f"event {event_id or '?'} has envelope schema version {version!r}; this tradebot"
            f" reads version {known} only: upgrade the reading service to the publisher's"
            " release (or roll the publisher back) before it can be handled"
        )
        self.version = version
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event or command on the bus.

    ``event_id`` is what consumers de-duplicate on: give it a value derived from what the
    message says (a bar's venue, symbol and open time; a decision id) where one exists, so a
    publisher that retries or restarts re-sends the same id and the repeat is dropped.
    ``type`` names the payload's shape within the family (``BarClosed``, ``PlaceOrder``...).
    """

    family: Family
    type: str
    payload: Mapping[str, JsonValue]
    source: str
    created_ms: int
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: int = SCHEMA_VERSION

    def to_fields(self) -> dict[str, str]:
        """Encode as the flat text fields of a stream entry.

        Raises:
            EnvelopeError: the payload holds something JSON cannot carry exactly (NaN, a
                Decimal, a datetime, a set...).
        """
        try:
            payload = json.dumps(self.payload, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise EnvelopeError(
                f"event {self.event_id} ({self.family}/{self.type}) has a payload that is not"
                f" JSON-safe: {e}; send Decimals and times as text, no NaN"
            ) from e
        return {
            "v": str(self.version),
            "id": self.event_id,
            "family": self.family.value,
            "type": self.type,
            "created_ms": str(self.created_ms),
            "source": self.source,
            "payload": payload,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Envelope:
        """Decode a stream entry, checking its schema version before anything else.

        Raises:
            UnsupportedEnvelope: the entry was written with an unknown schema version.
            EnvelopeError: the entry is not an envelope.
        """
        version, event_id = fields.get("v", ""), fields.get("id", "")
        if version not in {str(v) for v in SUPPORTED_VERSIONS}:
            raise UnsupportedEnvelope(version, event_id)
        missing = [name for name in _FIELDS if name not in fields]
        if missing:
            raise EnvelopeError(f"event {event_id or '?'} lacks envelope fields {missing}")
        try:
            payload = json.loads(fields["payload"])
            family = Family(fields["family"])
            created_ms = int(fields["created_ms"])
        except ValueError as e:
            raise EnvelopeError(f"event {event_id} is not a valid envelope: {e}") from e
        if not isinstance(payload, dict):
            raise EnvelopeError(f"event {event_id} has a payload that is not a JSON object")
        return cls(
            family=family,
            type=fields["type"],
            payload=payload,
            source=fields["source"],
            created_ms=created_ms,
            event_id=event_id,
            version=int(version),
        )
