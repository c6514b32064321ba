"""The alert outbox: alerts are written here first, then delivered channel by channel.

``raise_alerts`` writes an alert and one ``alert_outbox`` row per channel in one transaction
(with any control marks the caller passes, such as how far it has read the trades), unless
the same alert (rule and subject) was raised within its cool-down: then the earlier alert's
``repeats`` grows and nothing new is sent. A sender asks for ``due`` deliveries and records,
after each part a channel accepts, how many parts are done; so a sender killed at any point
resumes after a restart with the first part not yet accepted, and never sends a part twice
except one whose acceptance it had not yet recorded (see docs/monitoring.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tradebot.domain.alerts import Alert
from tradebot.state.db import Database
from tradebot.state.repository import wall_clock_ms
from tradebot.state.tables import AlertRow, ControlRow, OutboxRow
from tradebot.state.transaction import StateTransaction

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert to deliver on one channel, and how far its delivery got."""

    id: int
    alert_id: int
    channel: str
    silent: bool
    attempts: int
    parts_sent: int
    rule: str
    severity: str
    title: str
    body: str
    created_ts_ms: int


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """An alert as raised, whatever became of its deliveries."""

    id: int
    created_ts_ms: int
    rule: str
    severity: str
    title: str
    body: str
    repeats: int


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An alert and where its delivery stands on one channel (for views and /health)."""

    alert_id: int
    created_ts_ms: int
    rule: str
    severity: str
    title: str
    repeats: int
    channel: str
    status: str
    attempts: int
    last_error: str


class AlertOutbox:
    """Alerts and their deliveries in the bot's database."""

    def __init__(self, database: Database, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        """Keep alerts in ``database``; ``now_ms`` stamps rows and schedules retries."""
        self._db = database
        self._now_ms = now_ms

    def raise_alerts(
        self,
        alerts: Sequence[tuple[Alert, Mapping[str, bool]]],
        cooldown_ms: int,
        marks: Mapping[str, str] | None = None,
    ) -> list[int | None]:
        """Write each alert for its channels (name -> silent), all in one transaction.

        Returns each alert's id, or None for a repeat of the same alert (rule and subject)
        raised within ``cooldown_ms``: the earlier one's ``repeats`` grows instead. ``marks``
        are control-state values saved with them (an alert and the reading that raised it
        commit together, so a restart neither loses nor repeats it).
        """
        now = self._now_ms()
        with self._db.session() as session:
            StateTransaction(session, now).set_controls(marks or {})
            return [
                _raise(session, alert, channels, now, cooldown_ms) for alert, channels in alerts
            ]

    def due(self, channel: str, limit: int = 20) -> list[Delivery]:
        """Pending deliveries on ``channel`` whose next attempt is due, oldest first."""
        query = (
            select(OutboxRow, AlertRow)
            .join(AlertRow, AlertRow.id == OutboxRow.alert_id)
            .where(OutboxRow.channel == channel)
            .where(OutboxRow.status == PENDING)
            .where(OutboxRow.next_attempt_ts_ms <= self._now_ms())
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        with self._db.read_session() as session:
            return [_delivery(o, a) for o, a in session.execute(query)]

    def record_parts(self, delivery_id: int, parts_sent: int, done: bool) -> None:
        """Record that the channel accepted ``parts_sent`` parts; ``done`` when that is all."""
        values: dict[str, object] = {"parts_sent": parts_sent, "last_error": ""}
        if done:
            values |= {"status": SENT, "sent_ts_ms": self._now_ms()}
        self._update(delivery_id, values)

    def retry_later(
        self, delivery_id: int, delay_ms: int, error: str, pause_channel: str | None = None
    ) -> None:
        """Count a failed attempt and try again ``delay_ms`` from now.

        With ``pause_channel`` (a 429: the channel limits the bot, not one message) the whole
        channel waits as long, and the pause is saved with the attempt: a sender started
        again within it waits it out too, and does not send the next alert first.
        """
        now = self._now_ms()
        values = {
            "attempts": OutboxRow.attempts + 1,
            "next_attempt_ts_ms": now + delay_ms,
            "last_error": error,
        }
        with self._db.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == delivery_id).values(values))
            if pause_channel is not None:
                pause = {_pause_key(pause_channel): str(now + delay_ms)}
                StateTransaction(session, now).set_controls(pause)

    def is_paused(self, channel: str) -> bool:
        """Whether ``channel`` is still waiting out a rate limit (:meth:`retry_later`)."""
        with self._db.read_session() as session:
            row = session.get(ControlRow, _pause_key(channel))
        return row is not None and self._now_ms() < int(row.value)

    def mark_failed(self, delivery_id: int, error: str) -> None:
        """Give up on a delivery the channel refuses for good (it stays listed, failed)."""
        self._update(
            delivery_id,
            {"attempts": OutboxRow.attempts + 1, "status": FAILED, "last_error": error},
        )

    def recent(self, limit: int = 20) -> list[OutboxEntry]:
        """The newest deliveries, newest first."""
        query = (
            select(OutboxRow, AlertRow)
            .join(AlertRow, AlertRow.id == OutboxRow.alert_id)
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        with self._db.read_session() as session:
            return [_entry(o, a) for o, a in session.execute(query)]

    def alerts(self, limit: int = 20) -> list[RaisedAlert]:
        """The newest alerts, newest first (with or without a channel to send them to)."""
        query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        with self._db.read_session() as session:
            return [
                RaisedAlert(a.id, a.created_ts_ms, a.rule, a.severity, a.title, a.body, a.repeats)
                for a in session.scalars(query)
            ]

    def counts(self) -> dict[str, int]:
        """How many deliveries are pending, sent and failed."""
        query = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        with self._db.read_session() as session:
            found = {status: int(n) for status, n in session.execute(query)}
        return {status: found.get(status, 0) for status in (PENDING, SENT, FAILED)}

    def alert_count(self) -> int:
        """How many alerts were raised (repeats folded in)."""
        with self._db.read_session() as session:
            return int(session.scalar(select(func.count()).select_from(AlertRow)) or 0)

    def _update(self, delivery_id: int, values: Mapping[str, object]) -> None:
        with self._db.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == delivery_id).values(values))


def _pause_key(channel: str) -> str:
    """The control-state key holding until when ``channel`` is rate-limited (epoch ms)."""
    return f"alerts.{channel}.paused_until_ms"


def _raise(
    session: Session, alert: Alert, channels: Mapping[str, bool], now: int, cooldown_ms: int
) -> int | None:
    earlier = session.scalars(
        select(AlertRow)
        .where(AlertRow.dedup_key == alert.dedup_key)
        .where(AlertRow.created_ts_ms >= now - cooldown_ms)
        .order_by(AlertRow.id.desc())
        .limit(1)
    ).first()
    if earlier is not None:
        earlier.repeats += 1
        earlier.last_repeat_ts_ms = now
        return None
    row = AlertRow(
        created_ts_ms=now,
        rule=alert.rule.value,
        severity=alert.severity.value,
        dedup_key=alert.dedup_key,
        title=alert.title,
        body=alert.body,
        repeats=0,
    )
    session.add(row)
    session.flush()
    for channel, silent in channels.items():
        session.add(_new_delivery(row.id, channel, silent, now))
    return row.id


def _new_delivery(alert_id: int, channel: str, silent: bool, now_ms: int) -> OutboxRow:
    return OutboxRow(
        alert_id=alert_id,
        channel=channel,
        silent=silent,
        status=PENDING,
        attempts=0,
        parts_sent=0,
        next_attempt_ts_ms=now_ms,
        last_error="",
    )


def _delivery(row: OutboxRow, alert: AlertRow) -> Delivery:
    return Delivery(
        id=row.id,
        alert_id=alert.id,
        channel=row.channel,
        silent=row.silent,
        attempts=row.attempts,
        parts_sent=row.parts_sent,
        rule=alert.rule,
        severity=alert.severity,
        title=alert.title,
        body=alert.body,
        created_ts_ms=alert.created_ts_ms,
    )


def _entry(row: OutboxRow, alert: AlertRow) -> OutboxEntry:
    return OutboxEntry(
        alert_id=alert.id,
        created_ts_ms=alert.created_ts_ms,
        rule=alert.rule,
        severity=alert.severity,
        title=alert.title,
        repeats=alert.repeats,
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
    )
