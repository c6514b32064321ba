"""LogTap: what the running bot says in its log, for the alerts nothing persists.

An exchange outage and a failed database write leave no row behind (the first writes
nothing, the second cannot), but the bot logs both: ``exchange unavailable; waiting`` each
failed poll, ``exchange back after an outage`` when it recovers, and ``state not saved``
(critical) from the journal; and the venue's words when it refuses an order, which the
orders table does not keep. A LogTap is a logging handler on the root logger that keeps
just those facts; the AlertManager reads them on its next tick. Nothing in the bot changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

EXCHANGE_DOWN = "exchange unavailable; waiting"
EXCHANGE_BACK = "exchange back after an outage"
STATE_NOT_SAVED = "state not saved"
ORDER_REJECTED = "order rejected"
_REASONS_KEPT = 200
_HANDLER_NAME = "tradebot-alert-tap"


def _event_of(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    # structlog hands the event dict over as ``msg``; plain logging calls carry text.
    if isinstance(record.msg, dict):
        fields = dict(record.msg)
        return str(fields.pop("event", "")), fields
    return record.getMessage(), {}


class LogTap(logging.Handler):
    """Keeps the outage start and unsaved-state errors the bot logs."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """Time outages with ``clock`` (seconds)."""
        super().__init__(level=logging.WARNING)
        self.set_name(_HANDLER_NAME)
        self._clock = clock
        self._lock = threading.Lock()
        self.unreachable_since: float | None = None
        self.last_exchange_error = ""
        self._persistence_errors: list[str] = []
        self._rejections: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        """Note the events that matter for alerts; ignore the rest."""
        event, fields = _event_of(record)
        with self._lock:
            if event.startswith(EXCHANGE_DOWN):
                if self.unreachable_since is None:
                    self.unreachable_since = self._clock()
                self.last_exchange_error = str(fields.get("error", ""))
            elif event.startswith(EXCHANGE_BACK):
                self.unreachable_since = None
            elif event.startswith(STATE_NOT_SAVED):
                self._persistence_errors.append(str(fields.get("error", event)))
            elif event.startswith(ORDER_REJECTED) and "client_order_id" in fields:
                if len(self._rejections) >= _REASONS_KEPT:
                    self._rejections.pop(next(iter(self._rejections)))
                self._rejections[str(fields["client_order_id"])] = str(fields.get("reason", ""))

    def rejection_of(self, client_order_id: str) -> str:
        """What the venue said when it refused this order (the database keeps no reason)."""
        with self._lock:
            return self._rejections.get(client_order_id, "")

    def take_persistence_errors(self) -> list[str]:
        """The unsaved-state errors logged since the last call."""
        with self._lock:
            errors, self._persistence_errors = self._persistence_errors, []
        return errors

    def attach(self) -> None:
        """Start listening on the root logger."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)

    def detach(self) -> None:
        """Stop listening."""
        logging.getLogger().removeHandler(self)
