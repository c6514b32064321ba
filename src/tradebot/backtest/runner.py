"""The backtester: a plain loop feeding historical bars to the same engine live trading uses.

Speed comes from not visiting bars where nothing can happen, not from a second engine. A
bar is visited when the strategy may signal there (its ``signal_candidates``), when an order
is waiting for the next open, when a resting order's price lies inside the bar's range
(found with a vectorised search over highs and lows), or on every bar while the engine asks
for it (trailing stops, limit entries). On any other bar the engine would return HOLD and no
order could fill, so skipping it changes nothing — ``every_bar=True`` visits all bars, and a
test holds both paths to the same trades.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradebot.backtest.result import BacktestResult
from tradebot.domain.commands import CancelOrder, Command, Step
from tradebot.domain.decisions import Decision, SignalAction
from tradebot.domain.errors import OrderNotFound, OrderRejected
from tradebot.domain.events import BarClosed, Event, OrderUpdated
from tradebot.domain.orders import OrderStatus
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.orchestrator.engine import TradingEngine
from tradebot.strategy.base import Bars, IndexArray

ProgressCallback = Callable[[int, int], None]
Observer = Callable[[int, Event, Step], None]
_FIRST_CHUNK = 64


@dataclass(slots=True)
class _Tape:
    """What changed at each visited bar, to rebuild per-bar equity afterwards."""

    index: list[int] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)
    qty: list[float] = field(default_factory=list)
    exposed: list[bool] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    rejected: int = 0


class Backtester:
    """Run one engine over one symbol's candles against a ``SimulatedExchange``."""

    def __init__(
        self,
        engine: TradingEngine,
        exchange: SimulatedExchange,
        *,
        every_bar: bool = False,
        progress: ProgressCallback | None = None,
        observer: Observer | None = None,
        events_at: Mapping[int, Sequence[Event]] | None = None,
    ) -> None:
        """``observer(bar, event, step)`` sees every event the engine handles and its step
        (the ledger and risk properties are checked there). ``events_at`` hands operator
        events (a kill switch, a flatten) to the engine before the named bars, which are
        then visited."""
        self.engine = engine
        self.observer = observer
        self.events_at: Mapping[int, Sequence[Event]] = events_at or {}
        self._bar = -1
        self.exchange = exchange
        self.every_bar = every_bar
        self.progress = progress
        self.symbol = engine.symbol
        self._tape = _Tape()
        empty = array("d")
        self._ohlc: tuple[array[int], array[float], array[float], array[float], array[float]] = (
            array("q"),
            empty,
            empty,
            empty,
            empty,
        )

    def run(self, candles: pd.DataFrame, start_index: int = 0) -> BacktestResult:
        """Simulate the bars of ``candles`` and return trades, fills, equity and decisions.

        Bars before ``start_index`` only warm the indicators up: nothing trades on them, as
        a live bot started at that bar would not.
        """
        bars = self.engine.prepare(candles)
        self._loop(bars, start_index)
        return self._result(bars)

    # ----------------------------------------------------------------- the loop
    def _loop(self, bars: Bars, start_index: int) -> None:
        n = bars.n_bars
        # array.array indexes to plain Python numbers (several times faster than numpy
        # scalars) at 8 bytes a value (a list of floats costs 32).
        self._ohlc = (
            array("q", bars.ts_ms.astype(np.int64).tobytes()),
            array("d", bars["open"].tobytes()),
            array("d", bars["high"].tobytes()),
            array("d", bars["low"].tobytes()),
            array("d", bars["close"].tobytes()),
        )
        candidates = self._candidates(bars)
        ptr, i = 0, start_index
        next_report = 0
        while i < n:
            while ptr < len(candidates) and candidates[ptr] < i:
                ptr += 1
            next_candidate = int(candidates[ptr]) if ptr < len(candidates) else n
            j = self._next_bar(bars, i, next_candidate)
            if j >= n:
                break
            self._visit(bars, j)
            i = j + 1
            if self.progress is not None and i >= next_report:
                self.progress(i, n)
                next_report = i + max(n // 100, 1)
        if self.progress is not None:
            self.progress(n, n)

    def _candidates(self, bars: Bars) -> IndexArray:
        if self.every_bar:
            return np.arange(bars.n_bars, dtype=np.int64)
        found = self.engine.strategy.signal_candidates(bars)
        if found is None:
            return np.arange(bars.n_bars, dtype=np.int64)
        scripted = np.fromiter(self.events_at, dtype=np.int64, count=len(self.events_at))
        return np.unique(np.concatenate((np.asarray(found, dtype=np.int64), scripted)))

    def _next_bar(self, bars: Bars, i: int, next_candidate: int) -> int:
        if self.every_bar or self.engine.needs_every_bar:
            return i
        low_level, high_level, market_pending = self.exchange.trigger_levels(self.symbol)
        if market_pending:
            return i
        if low_level == -np.inf and high_level == np.inf:
            return next_candidate
        return _first_touch(bars["low"], bars["high"], i, next_candidate, low_level, high_level)

    def _visit(self, bars: Bars, j: int) -> None:
        ex, symbol = self.exchange, self.symbol
        ts, o, h, lo, c = self._ohlc
        self._bar = j
        if self.events_at:
            for event in self.events_at.get(j, ()):
                self._handle(event)
        for event in ex.open_bar(symbol, ts[j], o[j], h[j], lo[j], c[j]):
            self._handle(event)
        for event in ex.trade_bar(symbol):
            self._handle(event)
        closed = BarClosed(symbol, ts[j], j)
        step = self.engine.handle(closed)  # the hot path: ``_handle`` inlined
        if step.commands:
            self._execute(step.commands)
        if self.observer is not None:
            self.observer(j, closed, step)
        decision = step.decision
        if decision is not None and (
            decision.signal.action is not SignalAction.HOLD or decision.action != "hold"
        ):
            self._tape.decisions.append(decision)
        held, exposed = self.engine.view.holding(symbol)
        tape = self._tape
        tape.index.append(j)
        tape.cash.append(float(self.engine.portfolio.cash))
        tape.qty.append(float(held))
        tape.exposed.append(exposed)

    def _handle(self, event: Event) -> Step:
        """Hand one event to the engine, carry out its commands, tell the observer."""
        step = self.engine.handle(event)
        if step.commands:
            self._execute(step.commands)
        if self.observer is not None:
            self.observer(self._bar, event, step)
        return step

    def _execute(self, commands: Iterable[Command]) -> None:
        """Send commands to the simulated venue and hand its answers back as events."""
        ex = self.exchange
        for cmd in commands:
            if isinstance(cmd, CancelOrder):
                self._cancel(cmd)
                continue
            try:
                ex.submit(cmd)
            except OrderRejected as exc:
                self._tape.rejected += 1
                self._handle(
                    OrderUpdated(
                        cmd.client_order_id, cmd.symbol, OrderStatus.REJECTED, ex.now_ms, str(exc)
                    )
                )
                continue
            self._handle(OrderUpdated(cmd.client_order_id, cmd.symbol, OrderStatus.OPEN, ex.now_ms))
            if cmd.take_profit_id is not None:
                self._handle(
                    OrderUpdated(cmd.take_profit_id, cmd.symbol, OrderStatus.OPEN, ex.now_ms)
                )

    def _cancel(self, cmd: CancelOrder) -> None:
        ex = self.exchange
        try:
            ex.cancel(cmd.client_order_id)
        except OrderNotFound:
            return  # already filled or canceled: the venue's word stands
        # The venue's word on every order of the engine it closed (an OCO list goes whole).
        # Orders decided in the same step and not sent yet are unknown to the venue.
        for cid in self.engine.view.open_order_ids(cmd.symbol):
            venue = ex.known_order(cid)
            if venue is not None and not venue.is_open:
                self._handle(OrderUpdated(cid, venue.symbol, venue.status, ex.now_ms, cmd.reason))

    # ----------------------------------------------------------------- results
    def _result(self, bars: Bars) -> BacktestResult:
        n = bars.n_bars
        tape = self._tape
        starting_cash = float(self.engine.portfolio.starting_cash)
        index = np.asarray(tape.index, dtype=np.int64)
        last = np.searchsorted(index, np.arange(n), side="right") - 1
        cash = np.concatenate(([starting_cash], np.asarray(tape.cash)))[last + 1]
        qty = np.concatenate(([0.0], np.asarray(tape.qty)))[last + 1]
        exposed = np.concatenate(([False], np.asarray(tape.exposed, dtype=bool)))[last + 1]
        close = bars["close"]
        engine = self.engine
        return BacktestResult(
            symbol=self.symbol,
            timeframe=engine.settings.timeframe,
            strategy_name=engine.strategy.name,
            strategy_config=dict(engine.strategy.get_config()),
            starting_cash=starting_cash,
            ts_ms=bars.ts_ms,
            open=bars["open"],
            high=bars["high"],
            low=bars["low"],
            close=close,
            equity=cash + qty * close,
            position_qty=np.where(exposed, qty, 0.0),
            trades=list(engine.trades),
            fills=self.exchange.fills(self.symbol),
            decisions=tape.decisions,
            fees_paid=float(engine.portfolio.fees),
            rejected_orders=tape.rejected,
            settings={"bars_visited": len(tape.index)},
        )


def _first_touch(
    low: np.ndarray, high: np.ndarray, start: int, stop: int, low_level: float, high_level: float
) -> int:
    """First bar in ``[start, stop)`` whose range reaches a level, else ``stop``.

    Searches in growing chunks so a position held for many bars costs few numpy calls and a
    stop hit soon costs one small one.
    """
    k, step = start, _FIRST_CHUNK
    while k < stop:
        end = min(stop, k + step)
        hit = np.flatnonzero((low[k:end] <= low_level) | (high[k:end] >= high_level))
        if hit.size:
            return k + int(hit[0])
        k, step = end, step * 4
    return stop
