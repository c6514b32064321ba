"""What the dashboard shows, read from the bot's saved state (never from the running engine).

The database is the one interface between the bot and its monitors: SQLite in WAL mode lets
these reads run while the bot writes, so the dashboard works the same inside ``tradebot run``
and alone beside a bot in another process (or none).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal

from tradebot.domain.orders import Order
from tradebot.monitoring.dashboard import schemas
from tradebot.monitoring.explain import decision_lines, explain_decision
from tradebot.monitoring.figures import FiguresReader
from tradebot.orchestrator.continuity import FLATTEN_REQUEST
from tradebot.state import LoggedDecision, Repository
from tradebot.state.outbox import AlertOutbox

_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_NOT_OVERLAID = frozenset({*_PRICE_COLUMNS, "atr"})
CANDLE_LIMIT = 500
EQUITY_BARS = 5000


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def order_view(order: Order) -> schemas.OrderView:
    """An order and its fills as the API shows them."""
    fills = [
        schemas.FillView(
            trade_id=f.trade_id,
            qty=f.qty,
            price=f.price,
            fee=f.fee,
            fee_asset=f.fee_asset,
            ts_ms=f.ts_ms,
            is_maker=f.is_maker,
        )
        for f in order.fills
    ]
    return schemas.OrderView(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side.value,
        type=order.type.value,
        qty=order.qty,
        price=order.price,
        stop_price=order.stop_price,
        status=order.status.value,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        created_ts_ms=order.created_ts_ms,
        reason=order.reason,
        fills=fills,
    )


class StateReader:
    """Builds each view of the API from a ``Repository``."""

    def __init__(self, repo: Repository, outbox: AlertOutbox, stale_after_s: float) -> None:
        """Read ``repo`` and ``outbox``; health calls the bot stale after ``stale_after_s``."""
        self.repo = repo
        self.outbox = outbox
        self._stale_after_s = stale_after_s
        self._started = time.monotonic()
        self._figures = FiguresReader(repo)  # the reader /metrics uses: the same numbers
        self._figures_lock = threading.Lock()  # it keeps running totals; requests are threads

    def _recent(self, limit: int, symbol: str | None = None) -> list[LoggedDecision]:
        return list(reversed(self.repo.latest_decisions(limit, symbol=symbol)))

    def _symbol(self, symbol: str | None) -> str | None:
        if symbol is not None:
            return symbol
        newest = self.repo.latest_decisions(1)
        return newest[0].decision.symbol if newest else None

    def marks(self) -> dict[str, float]:
        """The last close the bot decided on, per symbol it holds."""
        found: dict[str, float] = {}
        for saved in self.repo.positions(open_only=True):
            symbol = saved.position.symbol
            newest = self.repo.latest_decisions(1, symbol=symbol)
            close = newest[0].decision.indicators.get("close") if newest else None
            if close is not None and math.isfinite(close):
                found[symbol] = close
        return found

    def overview(self, user: str, role: str, may_operate: bool) -> schemas.Overview:
        """Kill switch, equity and counts."""
        snapshot = self.repo.latest_snapshot()
        trades = self.repo.trades()
        newest = self.repo.latest_decisions(1)
        symbols = sorted({p.position.symbol for p in self.repo.positions()})
        if newest and newest[0].decision.symbol not in symbols:
            symbols.append(newest[0].decision.symbol)
        return schemas.Overview(
            symbols=symbols,
            kill_switch=self.repo.kill_switch().value,
            kill_switch_reason=self.repo.kill_switch_reason(),
            flatten_requested=self.repo.get_control(FLATTEN_REQUEST) == "1",
            last_bar_ts_ms=newest[0].decision.ts_ms if newest else None,
            equity=None if snapshot is None else snapshot.equity,
            cash=None if snapshot is None else snapshot.cash,
            realised_pnl=sum((t.pnl for t in trades), Decimal(0)),
            trades=len(trades),
            open_orders=len(self.repo.open_orders()),
            open_positions=len(self.repo.positions(open_only=True)),
            user=user,
            role=role,
            may_operate=may_operate,
        )

    def positions(self) -> list[schemas.PositionView]:
        """Open positions, marked at the last decided close."""
        marks = self.marks()
        views = []
        for saved in self.repo.positions(open_only=True):
            p, mark = saved.position, marks.get(saved.position.symbol)
            unrealised = None if mark is None else mark * float(p.qty) - float(p.cost)
            views.append(
                schemas.PositionView(
                    symbol=p.symbol,
                    qty=p.qty,
                    avg_price=p.avg_price,
                    stop_price=saved.stop_price,
                    take_profit_price=saved.take_profit_price,
                    opened_ts_ms=p.opened_ts_ms,
                    realised_pnl=p.realised_pnl,
                    mark_price=mark,
                    unrealised_pnl=unrealised,
                )
            )
        return views

    def open_orders(self) -> list[schemas.OrderView]:
        """Orders not yet filled, cancelled or rejected (intents included)."""
        return [order_view(o) for o in self.repo.open_orders()]

    def trades(self, limit: int) -> list[schemas.TradeView]:
        """The newest closed round trips, newest first."""
        trades = self.repo.trades()[-limit:]
        return [
            schemas.TradeView(
                symbol=t.symbol,
                entry_ts_ms=t.entry_ts_ms,
                exit_ts_ms=t.exit_ts_ms,
                qty=t.qty,
                entry_price=t.entry_price,
                exit_price=t.exit_price,
                fees=t.fees,
                pnl=t.pnl,
                exit_reason=t.exit_reason,
            )
            for t in reversed(trades)
        ]

    def equity(self, symbol: str | None = None) -> schemas.EquityView:
        """Equity per snapshot, buy-and-hold of ``symbol`` from the first one, drawdown.

        Over the newest ``EQUITY_BARS`` decided bars, so a bot that has run for a year of
        minutes still answers in milliseconds.
        """
        symbol = self._symbol(symbol)
        entries = [] if symbol is None else self.repo.latest_decisions(EQUITY_BARS, symbol=symbol)
        closes = {e.decision.ts_ms: e.decision.indicators.get("close", math.nan) for e in entries}
        since = min(closes, default=None)
        snapshots = self.repo.snapshots(since_ms=since)[-EQUITY_BARS:]
        ts = [s.ts_ms for s in snapshots]
        equity = [float(s.equity) for s in snapshots]
        drawdown = _drawdown(equity)
        return schemas.EquityView(
            symbol=symbol,
            ts_ms=ts,
            equity=equity,
            buy_and_hold=_buy_and_hold(ts, equity, closes),
            drawdown=drawdown,
            max_drawdown=min(drawdown, default=0.0),
        )

    def candles(self, symbol: str | None = None, limit: int = CANDLE_LIMIT) -> schemas.CandleView:
        """The bars of the newest decisions with their indicators, and the fills on them."""
        symbol = self._symbol(symbol)
        entries = [] if symbol is None else self._recent(limit, symbol)
        rows = [e.decision.indicators for e in entries]
        ts = [e.decision.ts_ms for e in entries]
        columns = sorted({k for r in rows for k in r} - _NOT_OVERLAID)
        series = {c: [_number(r.get(c, math.nan)) for r in rows] for c in columns}
        price = {c: [_number(r.get(c, math.nan)) for r in rows] for c in _PRICE_COLUMNS}
        overlays, oscillators = _split_by_scale(series, price["low"], price["high"])
        since = ts[0] if ts else None
        fills = [] if symbol is None else self.repo.fills(symbol, since_ms=since)
        markers = [
            schemas.Marker(
                ts_ms=f.ts_ms,
                side=f.side.value,
                price=float(f.price),
                qty=float(f.qty),
                client_order_id=f.client_order_id,
            )
            for f in fills
        ]
        return schemas.CandleView(
            symbol=symbol,
            ts_ms=ts,
            open=price["open"],
            high=price["high"],
            low=price["low"],
            close=price["close"],
            overlays=overlays,
            oscillators=oscillators,
            markers=markers,
        )

    def decisions(
        self, limit: int, before_id: int | None, acted_only: bool
    ) -> list[schemas.DecisionSummary]:
        """A page of the decision log, newest first."""
        return [
            schemas.DecisionSummary(
                id=e.id,
                ts_ms=e.decision.ts_ms,
                symbol=e.decision.symbol,
                signal=e.decision.signal.action.value,
                reason=e.decision.signal.reason,
                action=e.decision.action,
                verdict=_verdict(e),
                orders=len(e.decision.client_order_ids),
            )
            for e in self.repo.latest_decisions(limit, before_id, acted_only=acted_only)
        ]

    def explanation(self, decision_id: int) -> schemas.ExplanationView | None:
        """The full explanation of one decision, or None when there is none with that id."""
        entry = self.repo.decision_entry(decision_id)
        if entry is None:
            return None
        found = explain_decision(entry, self.repo)
        entry, d = found.entry, found.entry.decision
        checks = [] if d.verdict is None else d.verdict.checks
        saved = {o.client_order_id for o in found.orders}
        return schemas.ExplanationView(
            id=entry.id,
            ts_ms=d.ts_ms,
            recorded_ts_ms=entry.recorded_ts_ms,
            symbol=d.symbol,
            signal=d.signal.action.value,
            confidence=d.signal.confidence,
            reason=d.signal.reason,
            metadata={k: _plain(v) for k, v in d.signal.metadata.items()},
            indicators={k: _number(v) for k, v in d.indicators.items()},
            verdict=_verdict(entry),
            checks=[
                schemas.CheckView(name=c.name, passed=c.passed, detail=c.detail) for c in checks
            ],
            action=d.action,
            orders=[order_view(o) for o in found.orders],
            missing_orders=[c for c in d.client_order_ids if c not in saved],
            equity=d.equity,
            cash=d.cash,
            position_qty=d.position_qty,
            text=decision_lines(found),
        )

    def health(self, now_ms: int) -> schemas.Health:
        """Is the state readable and is the bot deciding on time."""
        problems: list[str] = []
        newest = self.repo.latest_decisions(1)
        recorded = newest[0].recorded_ts_ms if newest else None
        age = None if recorded is None else max(0.0, (now_ms - recorded) / 1000)
        if age is not None and age > self._stale_after_s:
            problems.append(
                f"no decision for {age:.0f} s (expected within {self._stale_after_s:.0f} s)"
            )
        kill_switch = self.repo.kill_switch().value
        if kill_switch != "ACTIVE":
            problems.append(f"kill switch {kill_switch}: {self.repo.kill_switch_reason()}")
        with self._figures_lock:
            f = self._figures.read()
        figures = schemas.Figures(
            equity=None if f.snapshot is None else f.snapshot.equity,
            cash=None if f.snapshot is None else f.snapshot.cash,
            peak_equity=f.peak_equity, drawdown=f.drawdown, unrealised_pnl=f.unrealised_pnl,
            daily_pnl=f.daily_pnl, trades=f.trades, trades_today=f.trades_today,
            win_rate=f.win_rate, orders_by_status={k.value: v for k, v in f.orders.items()},
            discrepancies=f.discrepancies,
        )  # fmt: skip
        return schemas.Health(
            figures=figures,
            status="ok" if not problems else "attention",
            problems=problems,
            now_ms=now_ms,
            database=self.repo.location,
            database_ok=True,
            last_decision_ts_ms=newest[0].decision.ts_ms if newest else None,
            last_decision_recorded_ms=recorded,
            last_decision_age_s=age,
            kill_switch=kill_switch,
            open_orders=len(self.repo.open_orders()),
            open_positions=len(self.repo.positions(open_only=True)),
            reconciliation_discrepancies=len(self.repo.reconciliation_events()),
            dashboard_uptime_s=time.monotonic() - self._started,
        )

    def alerts(self, limit: int) -> schemas.AlertsView:
        """The alert outbox: counts and the newest deliveries."""
        recent = [
            schemas.AlertEntry.model_validate(e, from_attributes=True)
            for e in self.outbox.recent(limit)
        ]
        return schemas.AlertsView(
            deliveries=self.outbox.counts(), raised=self.outbox.alert_count(), recent=recent
        )


def _verdict(entry: LoggedDecision) -> str | None:
    verdict = entry.decision.verdict
    return None if verdict is None else ("approved" if verdict.approved else "rejected")


def _plain(value: object) -> float | int | str | bool | None:
    if isinstance(value, float):
        return _number(value)
    return value if value is None or isinstance(value, int | str | bool) else str(value)


def _buy_and_hold(
    ts: Sequence[int], equity: Sequence[float], closes: dict[int, float]
) -> list[float | None]:
    # Starting equity put into the symbol at the first snapshot's close, marked at each close.
    first = next((closes[t] for t in ts if math.isfinite(closes.get(t, math.nan))), None)
    if first is None or not equity:
        return [None] * len(ts)
    units = equity[0] / first
    out: list[float | None] = []
    last: float | None = None
    for t in ts:
        close = closes.get(t, math.nan)
        last = units * close if math.isfinite(close) else last
        out.append(last)
    return out


def _drawdown(equity: Iterable[float]) -> list[float]:
    peak, out = -math.inf, []
    for value in equity:
        peak = max(peak, value)
        out.append(value / peak - 1 if peak > 0 else 0.0)
    return out


def _split_by_scale(
    series: dict[str, list[float | None]],
    low: Sequence[float | None],
    high: Sequence[float | None],
) -> tuple[dict[str, list[float | None]], dict[str, list[float | None]]]:
    # An indicator drawn over the candles must live on the price's scale: its values fall
    # within half and twice the range the prices span.
    lows = [v for v in low if v is not None]
    highs = [v for v in high if v is not None]
    if not lows or not highs:
        return {}, series
    floor, ceiling = min(lows) / 2, max(highs) * 2
    overlays: dict[str, list[float | None]] = {}
    oscillators: dict[str, list[float | None]] = {}
    for name, values in series.items():
        known = [v for v in values if v is not None]
        on_price = bool(known) and floor <= min(known) and max(known) <= ceiling
        (overlays if on_price else oscillators)[name] = values
    return overlays, oscillators
