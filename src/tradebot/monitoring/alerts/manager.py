"""AlertManager: looks at what the bot persisted and raises the design's alerts.

It never touches the engine. Every ``check_interval_s`` it reads what changed since its
marks (closed trades, reconciliation events, decisions, refused and filled orders, opened
positions, snapshots), asks the LogTap what only the log knows (an exchange outage, an
unsaved state), and writes the alerts and its new marks to the outbox in one transaction:
a restart neither repeats nor loses one. A monitor that starts on a database it never saw
begins at the newest row instead of alerting the history.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from tradebot.config.monitoring import AlertThresholds
from tradebot.domain.alerts import Alert
from tradebot.domain.orders import Order, OrderStatus
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.monitoring.alerts import rules
from tradebot.monitoring.alerts.logtap import LogTap
from tradebot.monitoring.alerts.routing import AlertRouting
from tradebot.monitoring.holdings import held_positions
from tradebot.state.control import utc_day
from tradebot.state.outbox import AlertOutbox
from tradebot.state.watch import Marks, OrderMark, StateWatch

_PREFIX = "alerts.mark."
_KEYS = (
    "trade",
    "reconciliation",
    "decision",
    "orders",
    "fills",
    "opened",
    "snapshot",
    "peak",
    "day",
)
_WIN_RATE_WINDOW = 50


@dataclass(slots=True)
class _Cursor:
    """The manager's marks, as saved in the control state."""

    marks: Marks
    fills: OrderMark
    opened_ts_ms: int
    snapshot_ts_ms: int
    peak: Decimal
    day: str

    def encode(self) -> dict[str, str]:
        values = (
            self.marks.trade_id, self.marks.reconciliation_id, self.marks.decision_id,
            self.marks.orders.encode(), self.fills.encode(), self.opened_ts_ms,
            self.snapshot_ts_ms, self.peak, self.day,
        )  # fmt: skip
        return {_PREFIX + k: str(v) for k, v in zip(_KEYS, values, strict=True)}


@dataclass(slots=True)
class _Latency:
    calls: int = 0
    total_s: float = 0.0


@dataclass(slots=True)
class _Found:
    alerts: list[Alert] = field(default_factory=list)

    def add(self, alert: Alert | None) -> None:
        if alert is not None:
            self.alerts.append(alert)


class AlertManager:
    """Raises alerts from persisted state and the LogTap into the outbox."""

    def __init__(
        self,
        watch: StateWatch,
        outbox: AlertOutbox,
        routing: AlertRouting,
        thresholds: AlertThresholds,
        daily_loss_limit: Decimal | None,
        tap: LogTap | None = None,
        latency: ConnectorMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Read through ``watch``, write to ``outbox``; ``daily_loss_limit`` in quote."""
        self._watch, self._repo, self._outbox = watch, watch.repository, outbox
        self._routing, self._limits = routing, thresholds
        self._daily_loss = thresholds.daily_loss or daily_loss_limit
        self._tap, self._latency_source, self._clock = tap, latency, clock
        self._latency = _Latency()
        self._results: deque[bool] | None = None
        self.raised = 0

    def raise_now(self, alert: Alert, marks: Mapping[str, str] | None = None) -> int | None:
        """Write one alert at once (the bot's own stop, say); its id, or None if a repeat.

        ``marks``: control-state values committed with it (a bus event id, so that the
        event is recognised when delivered again)."""
        channels = self._routing.channels_for(alert.rule)
        cooldown_ms = self._routing.cooldown_ms
        (alert_id,) = self._outbox.raise_alerts([(alert, channels)], cooldown_ms, marks)
        return alert_id

    def tick(self) -> list[Alert]:
        """Look once; write what was found with the new marks; return the alerts raised."""
        saved = self._repo.get_control(_PREFIX + _KEYS[0]) is not None
        cursor = self._cursor()
        before = cursor.encode() if saved else {}
        found = _Found()
        self._changes(cursor, found)
        self._conditions(cursor, found)
        self._summary(cursor, found)
        if not found.alerts and cursor.encode() == before:
            return []  # nothing new: no write (the bot has the database to itself)
        pairs = [(a, self._routing.channels_for(a.rule)) for a in found.alerts]
        ids = self._outbox.raise_alerts(pairs, self._routing.cooldown_ms, cursor.encode())
        raised = [a for a, i in zip(found.alerts, ids, strict=True) if i is not None]
        self.raised += len(raised)
        return raised

    # ------------------------------------------------------------------ marks
    def _cursor(self) -> _Cursor:
        saved = {k: self._repo.get_control(_PREFIX + k) for k in _KEYS}
        if any(v is None for v in saved.values()):
            return self._fresh_cursor()
        return _Cursor(
            Marks(
                int(saved["trade"] or 0),
                int(saved["reconciliation"] or 0),
                int(saved["decision"] or 0),
                OrderMark.decode(saved["orders"] or "0|"),
            ),
            OrderMark.decode(saved["fills"] or "0|"),
            int(saved["opened"] or 0),
            int(saved["snapshot"] or 0),
            Decimal(saved["peak"] or "0"),
            saved["day"] or "",
        )

    def _fresh_cursor(self) -> _Cursor:
        marks = self._watch.high_marks()
        snapshots = self._repo.snapshots()
        positions = held_positions(self._repo)
        last_ts = snapshots[-1].ts_ms if snapshots else 0
        return _Cursor(
            marks,
            marks.orders,
            max((p.position.opened_ts_ms for p in positions), default=0),
            last_ts,
            max((s.equity for s in snapshots), default=Decimal(0)),
            utc_day(last_ts) if snapshots else "",
        )

    # ------------------------------------------------------------------ what changed
    def _changes(self, cursor: _Cursor, found: _Found) -> None:
        trades = self._watch.trades_after(cursor.marks.trade_id)
        for _id, trade in trades:
            found.add(rules.trade_closed(trade))
            self._win_results().append(trade.pnl > 0)
        events = self._watch.reconciliation_after(cursor.marks.reconciliation_id)
        for _id, event in events:
            found.add(rules.from_reconciliation(event))
        decisions = self._watch.decisions_after(cursor.marks.decision_id)
        for entry in decisions:
            found.add(rules.daily_loss_check_failed(entry.decision))
        failed = self._watch.orders_after(cursor.marks.orders, (OrderStatus.REJECTED,))
        for order in failed:
            refusal = self._tap.rejection_of(order.client_order_id) if self._tap else ""
            found.add(rules.order_failed(order, refusal))
        filled = self._watch.orders_after(cursor.fills, (OrderStatus.FILLED,))
        for order in filled:
            found.add(self._slippage(order))
        cursor.marks = Marks(
            trades[-1][0] if trades else cursor.marks.trade_id,
            events[-1][0] if events else cursor.marks.reconciliation_id,
            decisions[-1].id if decisions else cursor.marks.decision_id,
            cursor.marks.orders.after(failed),
        )
        cursor.fills = cursor.fills.after(filled)
        for saved in held_positions(self._repo):
            if saved.position.opened_ts_ms > cursor.opened_ts_ms:
                found.add(rules.trade_opened(saved.position))
                cursor.opened_ts_ms = saved.position.opened_ts_ms

    def _slippage(self, order: Order) -> Alert | None:
        # Against the price the order named: a stop's trigger, a limit's price. A market
        # entry names none (its reference, the bar's close, is not saved with it).
        reference = order.stop_price or order.price
        if reference is None or order.avg_fill_price is None or not reference:
            return None
        worse = order.avg_fill_price - reference
        pct = float((worse if order.side.value == "buy" else -worse) / reference)
        if pct <= self._limits.max_slippage_pct:
            return None
        return rules.slippage(order, reference, pct, self._limits.max_slippage_pct)

    def _win_results(self) -> deque[bool]:
        if self._results is None:
            recent = self._repo.trades()[-_WIN_RATE_WINDOW:]
            self._results = deque((t.pnl > 0 for t in recent), maxlen=_WIN_RATE_WINDOW)
        return self._results

    # ------------------------------------------------------------------ conditions
    def _conditions(self, cursor: _Cursor, found: _Found) -> None:
        limits = self._limits
        snapshots = self._repo.snapshots(since_ms=cursor.snapshot_ts_ms + 1)
        for snapshot in snapshots:
            cursor.peak = max(cursor.peak, snapshot.equity)
        latest = snapshots[-1] if snapshots else self._repo.latest_snapshot()
        if snapshots:
            cursor.snapshot_ts_ms = snapshots[-1].ts_ms
        if latest is not None:
            if cursor.peak and latest.equity < cursor.peak * Decimal(1 - limits.max_drawdown_pct):
                found.add(rules.drawdown(latest.equity, cursor.peak, limits.max_drawdown_pct))
            self._daily_loss_reached(latest.ts_ms, latest.equity, found)
            for saved in held_positions(self._repo):
                hours = (latest.ts_ms - saved.position.opened_ts_ms) / 3_600_000
                if hours > limits.max_position_age_hours:
                    found.add(
                        rules.position_age(saved.position, hours, limits.max_position_age_hours)
                    )
        results = self._win_results()
        if len(results) >= limits.min_trades_for_win_rate:
            wins = sum(results)
            if wins / len(results) < limits.min_win_rate:
                found.add(rules.win_rate(wins, len(results), limits.min_win_rate))
        self._from_log(found)
        self._api_latency(found)

    def _daily_loss_reached(self, ts_ms: int, equity: Decimal, found: _Found) -> None:
        start = self._repo.day_start_equity(ts_ms)
        if start is None or self._daily_loss is None:
            return
        loss = start - equity
        if loss >= self._daily_loss:
            found.add(rules.daily_loss(ts_ms, f"loss today {loss:.2f} >= limit {self._daily_loss}"))

    def _from_log(self, found: _Found) -> None:
        if self._tap is None:
            return
        since = self._tap.unreachable_since
        if since is not None and self._clock() - since >= self._limits.exchange_unreachable_s:
            found.add(
                rules.exchange_unreachable(self._clock() - since, self._tap.last_exchange_error)
            )
        errors = self._tap.take_persistence_errors()
        if errors:
            found.add(rules.persistence_failure(errors))

    def _api_latency(self, found: _Found) -> None:
        if self._latency_source is None:
            return
        stats = self._latency_source.endpoints.values()
        calls, total_s = sum(s.calls for s in stats), sum(s.total_latency_s for s in stats)
        new_calls, new_s = calls - self._latency.calls, total_s - self._latency.total_s
        self._latency = _Latency(calls, total_s)
        if new_calls > 0 and new_s / new_calls * 1000 > self._limits.max_api_latency_ms:
            found.add(rules.api_latency(new_s / new_calls * 1000, self._limits.max_api_latency_ms))

    # ------------------------------------------------------------------ daily summary
    def _summary(self, cursor: _Cursor, found: _Found) -> None:
        if not cursor.snapshot_ts_ms:
            return
        today = utc_day(cursor.snapshot_ts_ms)
        if cursor.day and today > cursor.day:
            day = cursor.day
            start_ms = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)
            trades = [
                t for t in self._repo.trades(since_ms=start_ms) if utc_day(t.exit_ts_ms) == day
            ]
            latest = self._repo.latest_snapshot()
            found.add(rules.daily_summary(day, trades, latest.equity if latest else None))
        cursor.day = today
