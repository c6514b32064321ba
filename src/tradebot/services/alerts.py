"""The monitor's reader of the ``alerts`` stream: each bus alert becomes an outbox alert.

The services publish what a person must hear of (``SignalTooOld``, ``EnvelopeRefused``) on
the ``alerts`` family; ``tradebot serve monitor`` reads it with a consumer group and raises
each as a ``service_alert``, routed and delivered like the monitor's own alerts. The event
id is written as a control mark in the same transaction as the alert, and that mark is the
consumer's processed-ids record: a redelivered or re-sent alert is recognised, and a crash
before the commit leaves neither (so it is raised once; docs/distributed.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter

from tradebot.monitoring.alerts import rules
from tradebot.monitoring.alerts.manager import AlertManager
from tradebot.services.bus import Envelope
from tradebot.state import Repository

_PREFIX = "bus.alert."


def _mark(event_id: str) -> str:
    # Control keys hold 128 characters: a long event id is kept as its digest.
    if len(_PREFIX) + len(event_id) <= 128:
        return _PREFIX + event_id
    return _PREFIX + hashlib.sha256(event_id.encode()).hexdigest()


class BusAlerts:
    """Handler and processed-ids record of the monitor's consumer of ``alerts``."""

    def __init__(self, manager: AlertManager, repository: Repository) -> None:
        """Raise through ``manager``; read the marks from ``repository`` (same database)."""
        self._manager, self._repo = manager, repository
        self.raised: Counter[str] = Counter()  # by envelope type, for the metrics

    async def __call__(self, envelope: Envelope) -> None:
        """Raise the envelope as one alert, its event id marked in the same transaction."""
        payload = envelope.payload
        reason = payload.get("reason")
        detail = reason if isinstance(reason, str) else json.dumps(payload, sort_keys=True)
        alert = rules.service_alert(
            envelope.event_id, envelope.source, envelope.type, detail, envelope.created_ms
        )
        marks = {_mark(envelope.event_id): str(envelope.created_ms)}
        await asyncio.to_thread(self._manager.raise_now, alert, marks)
        self.raised[envelope.type] += 1

    async def contains(self, event_id: str) -> bool:
        """Whether the event's alert was raised (its mark is in the database)."""
        return await asyncio.to_thread(self._repo.get_control, _mark(event_id)) is not None

    async def add(self, event_id: str) -> None:
        """Nothing: the mark was committed with the alert."""
