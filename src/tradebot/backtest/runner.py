"""The backtester: a plain loop feeding historical bars to the same engine live trading uses.

Speed comes from not visiting bars where nothing can happen, not from a second engine. A
bar is visited when the strategy may signal there (its ``signal_candidates``), when an order
is waiting for the next open, when a resting order's price lies inside the bar's range
(found with a vectorised search over highs and lows), or on every bar while the engine asks
for it (trailing stops, limit entries). On any other bar the engine would return HOLD and no
order could fill, so skipping it changes nothing — ``every_bar=True`` visits all bars, and a
test holds both paths to the same trades. A bar visited for an order's sake alone is handed
over with ``may_signal=False``: the strategy is not asked there either (about half the
visits of a year of minute bars, each a call into the strategy's Python).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from tradebot.backtest.heap import release_free_heap
from tradebot.backtest.packed import Packed, packed_fills
from tradebot.backtest.result import (
    BacktestResult,
    Leg,
    RefusedOrder,
    basket_prices,
    union_of_times,
)
from tradebot.backtest.tape import Tape
from tradebot.backtest.timeline import held_on, run_offset
from tradebot.domain.commands import CancelOrder, Command, Step
from tradebot.domain.decisions import SignalAction
from tradebot.domain.errors import OrderNotFound, OrderRejected
from tradebot.domain.events import BarClosed, Event, OrderUpdated, TimerFired
from tradebot.domain.orders import Fill, OrderStatus
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.orchestrator.collector import quiet_collector
from tradebot.orchestrator.engine import TradingEngine
from tradebot.strategy.base import Bars, IndexArray, number_view

ProgressCallback = Callable[[int, int], None]
Observer = Callable[[int, Event, Step], None]
_FIRST_CHUNK: Final = 64
_INF: Final = float("inf")
_TIDY_MS: Final = 86_400_000
_PRICE_COLUMNS: Final = frozenset({"open", "high", "low", "close", "volume"})
_EQUITY_SLICE: Final = 65_536


# Each a memoryview of the bars' arrays, typed by what it yields (mypyc has no memoryview type).
Ohlc = tuple[Sequence[int], Sequence[float], Sequence[float], Sequence[float], Sequence[float]]


@dataclass(slots=True, eq=False)
class _Lane:
    """One symbol's bars as the loop walks them, and what its visits changed."""

    symbol: str
    bars: Bars
    ohlc: Ohlc
    candidates: Sequence[int]  # the bars the strategy may signal at, as Python ints
    tape: Tape = field(default_factory=Tape)
    ptr: int = 0
    next_bar: int = 0  # the next bar to visit (``n_bars``: none)
    start: int = 0  # the first bar not yet passed
    due: int = -1  # the next bar's open time (-1: none)
    n_bars: int = 0
    may_signal: bool = True  # the next bar to visit is one of the candidates


class Backtester:
    """Run one engine over its symbols' candles against one ``SimulatedExchange`` account.

    With several symbols the bars are aligned on their timestamps: at each timestamp the
    symbols due a visit are visited in the engine's order (a symbol whose data starts later
    joins when its data does), and each symbol still skips its own quiet bars.
    """

    def __init__(
        self,
        engine: TradingEngine,
        exchange: SimulatedExchange,
        *,
        every_bar: bool = False,
        progress: ProgressCallback | None = None,
        observer: Observer | None = None,
        events_at: Mapping[int, Sequence[Event]] | None = None,
        keep_records: bool = True,
    ) -> None:
        """``observer(bar, event, step)`` sees every event the engine handles and its step
        (the ledger and risk properties are checked there). ``events_at`` hands operator
        events (a kill switch, a flatten) to the engine before the named bars of the first
        symbol, which are then visited. Without ``keep_records`` the result has no decisions,
        no fills and no indicator columns (an optimisation trial is scored on its trades and
        equity alone, and a worker holding them doubled its memory on minute bars); the
        trading is the same."""
        self.engine = engine
        self.observer = observer
        self.events_at: Mapping[int, Sequence[Event]] = events_at or {}
        self._bar = -1
        self.exchange = exchange
        self.every_bar = every_bar
        self.keep_records = keep_records
        self.progress = progress
        self.symbol = engine.symbol
        self._tape = Tape()
        self._tidy_at = 0  # the bar time of the next ``_tidy``
        self._fills: Packed[Fill] | None = None
        if keep_records:  # the venue keeps its fills packed from here on; the result too
            self._fills = packed_fills()
            exchange.keep_fills_in(self._fills)

    def run(self, candles: pd.DataFrame, start_index: int = 0) -> BacktestResult:
        """Simulate the bars of ``candles`` (the first symbol's) and return trades, fills,
        equity and decisions.

        Bars before ``start_index`` only warm the indicators up: nothing trades on them, as
        a live bot started at that bar would not.
        """
        lane = self._lane(self.symbol, candles, start_index)
        release_free_heap()  # the indicators' temporaries: the loop grows from here
        with quiet_collector():
            self._loop(lane)
        return self._result(lane)

    def run_portfolio(
        self, candles: Mapping[str, pd.DataFrame], start_ts_ms: int | None = None
    ) -> BacktestResult:
        """Simulate every symbol of the engine on one account, aligned on timestamps.

        ``candles`` holds one frame per symbol of the engine. Bars opening before
        ``start_ts_ms`` only warm the indicators up. The result is the portfolio's: equity is
        cash plus every holding at its last close, on the union of the symbols' timestamps;
        ``close`` is the equal-weight buy-and-hold basket (starting at 1, a symbol's share
        kept as cash until its data starts), so the report's benchmark is that basket;
        ``position_qty`` is the value held (quote currency), not an amount of one asset.
        """
        missing = [s for s in self.engine.symbols if s not in candles]
        extra = [s for s in candles if s not in self.engine.symbols]
        if missing or extra:
            raise ValueError(
                f"the backtest needs candles for exactly {', '.join(self.engine.symbols)}"
                f" (missing: {', '.join(missing) or 'none'}; unknown: {', '.join(extra) or 'none'})"
            )
        lanes = []
        for symbol in self.engine.symbols:
            frame = candles[symbol]
            start = 0
            if start_ts_ms is not None:
                ts = frame["ts_ms"].to_numpy(dtype=np.int64)
                start = int(np.searchsorted(ts, start_ts_ms, side="left"))
            lanes.append(self._lane(symbol, frame, start))
        release_free_heap()
        with quiet_collector():
            self._loop_many(lanes)
        return self._portfolio_result(lanes, start_ts_ms)

    # ----------------------------------------------------------------- the loop
    def _lane(self, symbol: str, candles: pd.DataFrame, start: int) -> _Lane:
        bars = self.engine.prepare(candles, symbol=symbol)
        # A memoryview of the bars' own arrays indexes to plain Python numbers (several
        # times faster than numpy scalars) and copies nothing (a copy of the five columns
        # was 82 MB on two million bars).
        ohlc: Ohlc = (
            number_view(bars.ts_ms, np.int64),
            number_view(bars["open"], np.float64),
            number_view(bars["high"], np.float64),
            number_view(bars["low"], np.float64),
            number_view(bars["close"], np.float64),
        )
        # The first symbol's tape also gathers every decision and refusal.
        tape = self._tape if symbol == self.symbol else Tape()
        # Python ints, not numpy scalars: the loops compare them at every visit
        candidates = number_view(self._candidates(symbol, bars), np.int64)
        return _Lane(symbol, bars, ohlc, candidates, tape, start=start, n_bars=bars.n_bars)

    def _loop(self, lane: _Lane) -> None:
        bars = lane.bars
        candidates = lane.candidates
        n, m = bars.n_bars, len(candidates)
        ptr, i = 0, lane.start
        next_report = 0
        while i < n:
            while ptr < m and candidates[ptr] < i:
                ptr += 1
            next_candidate = candidates[ptr] if ptr < m else n
            j = self._next_bar(lane, i, next_candidate)
            if j >= n:
                break
            self._visit(lane, j, j == next_candidate)
            i = j + 1
            if self.progress is not None and i >= next_report:
                self.progress(i, n)
                next_report = i + max(n // 100, 1)
        if self.progress is not None:
            self.progress(n, n)

    def _advance(self, lane: _Lane) -> None:
        """Find the lane's next bar to visit from ``lane.start``, and its open time."""
        candidates, n, i = lane.candidates, lane.n_bars, lane.start
        if i >= n:
            lane.next_bar, lane.due = n, -1
            return
        ptr, count = lane.ptr, len(candidates)
        while ptr < count and candidates[ptr] < i:
            ptr += 1
        lane.ptr = ptr
        next_candidate = candidates[ptr] if ptr < count else n
        j = self._next_bar(lane, i, next_candidate)
        lane.next_bar = j
        lane.may_signal = j == next_candidate
        lane.due = lane.ohlc[0][j] if j < n else -1

    def _loop_many(self, lanes: list[_Lane]) -> None:
        """Visit, timestamp by timestamp, the symbols due a visit, in the engine's order.

        A lane's next visit depends only on its own strategy and orders, which only its own
        visits change, so it is found again only after it was visited (``_Lane.due``). Each
        time is the least due, found by one pass over the lanes in the engine's order,
        which also counts the lanes due then: a few machine-integer comparisons a lane
        (compiled), where a heap of the lanes cost about 1,400 instructions a visit in calls
        and boxed keys (``docs/backtest.md``). Most timestamps visit one symbol alone (each
        skips its own quiet bars), which is walked and decided at once, as the
        single-symbol loop does.
        """
        for lane in lanes:
            self._advance(lane)
        total = sum(lane.n_bars for lane in lanes)
        progress, next_report = self.progress, 0
        while True:
            now, first, count = _earliest(lanes)
            if first is None:
                break
            if count == 1:  # alone at this time
                j = first.next_bar
                self._walk(first, j)  # direct calls: compiled, a bound method is a Python call
                self._decide(first, j, first.may_signal)
                first.start = j + 1
                self._advance(first)
            else:
                self._visit_together([lane for lane in lanes if lane.due == now])
            if progress is not None:
                done = sum(lane.start for lane in lanes)
                if done >= next_report:
                    progress(done, total)
                    next_report = done + max(total // 100, 1)
        if progress is not None:
            progress(total, total)

    def _visit_together(self, visiting: list[_Lane]) -> None:
        """Visit the lanes due at one time, in the engine's order.

        Every symbol's bar is walked before any is decided, as on a venue where all bars
        close at once and the bot learns of every fill before it decides.
        """
        for lane in visiting:
            self._walk(lane, lane.next_bar)
        for lane in visiting:
            self._decide(lane, lane.next_bar, lane.may_signal)
        for lane in visiting:
            lane.start = lane.next_bar + 1
            self._advance(lane)

    def _candidates(self, symbol: str, bars: Bars) -> IndexArray:
        if self.every_bar:
            return np.arange(bars.n_bars, dtype=np.int64)
        found = self.engine.strategy_of(symbol).signal_candidates(bars)
        if found is None:
            return np.arange(bars.n_bars, dtype=np.int64)
        if symbol != self.symbol:
            return np.asarray(found, dtype=np.int64)
        scripted = np.fromiter(self.events_at, dtype=np.int64, count=len(self.events_at))
        return np.unique(np.concatenate((np.asarray(found, dtype=np.int64), scripted)))

    def _next_bar(self, lane: _Lane, i: int, next_candidate: int) -> int:
        symbol = lane.symbol
        if self.every_bar or self.engine.needs_every_bar_of(symbol):
            return i
        low_level, high_level, market_pending = self.exchange.trigger_levels(symbol)
        if market_pending:
            return i
        if low_level == -_INF and high_level == _INF:
            return next_candidate
        bars, ohlc = lane.bars, lane.ohlc
        return _first_touch(
            bars["low"], bars["high"], ohlc[3], ohlc[2], i, next_candidate, low_level, high_level
        )

    def _visit(self, lane: _Lane, j: int, may_signal: bool) -> None:
        """Walk bar ``j`` of the lane's symbol on the venue, then decide at its close."""
        self._walk(lane, j)
        self._decide(lane, j, may_signal)

    def _walk(self, lane: _Lane, j: int) -> None:
        ex, symbol = self.exchange, lane.symbol
        ts, o, h, lo, c = lane.ohlc
        self._bar = j
        if self.events_at and symbol == self.symbol:
            for event in self.events_at.get(j, ()):
                self._handle(event)
        now = ts[j]
        if now >= self._tidy_at:
            self._tidy(now)
        for event in ex.open_bar(symbol, now, o[j], h[j], lo[j], c[j]):
            self._note_expired(event)
            self._handle(event)
        for event in ex.trade_bar(symbol):
            self._handle(event)

    def _tidy(self, now_ms: int) -> None:
        """Once a day of bars, the engine (told by ``TimerFired``) and the venue forget the
        orders closed a day before: a backtest's memory does not grow with every order it
        ever sent (the fills and trades stay for the result)."""
        self._handle(TimerFired(now_ms))
        self.exchange.forget_closed(now_ms - _TIDY_MS, fills=not self.keep_records)
        self._tidy_at = now_ms + _TIDY_MS

    def _decide(self, lane: _Lane, j: int, may_signal: bool) -> None:
        """Hand the engine bar ``j``'s close. ``may_signal`` is False at a bar visited for an
        order's sake alone: the strategy promised HOLD there, as at the bars skipped."""
        symbol, ts = lane.symbol, lane.ohlc[0]
        self._bar = j
        closed = BarClosed(symbol, ts[j], j, may_signal)
        step = self.engine.handle(closed)  # the hot path: ``_handle`` inlined
        if step.commands:
            self._execute(step.commands)
        if self.observer is not None:
            self.observer(j, closed, step)
        decision = step.decision
        tape = lane.tape
        if (
            decision is not None
            and self.keep_records
            and (decision.signal.action is not SignalAction.HOLD or decision.action != "hold")
        ):
            self._tape.decisions.append(decision)
        cash, held, exposed = self.engine.tape_values(symbol)
        tape.note(j, cash, held, exposed)

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
                self._tape.refused.append(
                    RefusedOrder(
                        ex.now_ms, cmd.symbol, cmd.client_order_id, cmd.side.value,
                        cmd.type.value, cmd.qty, OrderStatus.REJECTED, str(exc),
                    )
                )  # fmt: skip
                # An OCO list is refused whole: both legs, the stop first (as the live shell).
                for cid in (cmd.client_order_id, cmd.take_profit_id):
                    if cid is not None:
                        self._handle(
                            OrderUpdated(cid, cmd.symbol, OrderStatus.REJECTED, ex.now_ms, str(exc))
                        )
                continue
            self._handle(OrderUpdated(cmd.client_order_id, cmd.symbol, OrderStatus.OPEN, ex.now_ms))
            if cmd.take_profit_id is not None:
                self._handle(
                    OrderUpdated(cmd.take_profit_id, cmd.symbol, OrderStatus.OPEN, ex.now_ms)
                )

    def _note_expired(self, event: Event) -> None:
        """Keep an order the venue expired at the open: a market order only expires there
        when the venue refuses to fill it (a buy the free cash no longer covers at this
        open); an OCO partner's expiry comes later, in the bar's walk."""
        if not isinstance(event, OrderUpdated) or event.status is not OrderStatus.EXPIRED:
            return
        order = self.exchange.known_order(event.client_order_id)
        if order is None or order.filled_qty > 0:
            return
        self._tape.refused.append(
            RefusedOrder(
                event.ts_ms, order.symbol, order.client_order_id, order.side.value,
                order.type.value, order.qty, OrderStatus.EXPIRED, event.reason,
            )
        )  # fmt: skip

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
    def _result(self, lane: _Lane) -> BacktestResult:
        bars = lane.bars
        n = bars.n_bars
        tape = self._tape.flush()
        starting_cash = float(self.engine.portfolio.starting_cash)
        # Each visit's account holds until the next visit: the state before the first
        # visit, then each visit's, repeated over the bars it lasts (no per-bar index
        # arrays: two million bars would need four of 16 MB each).
        visits = np.asarray(tape.index, dtype=np.int64)
        lasting = np.diff(np.concatenate((np.zeros(1, np.int64), visits, np.full(1, n))))
        qty = np.repeat(np.concatenate(([0.0], np.asarray(tape.qty))), lasting)
        exposed = np.repeat(np.concatenate(([False], np.asarray(tape.exposed, bool))), lasting)
        close = bars["close"]
        # the equity is the cash with the holdings added slice by slice, in place: a whole
        # ``qty * close`` beside it would be a third column of the bars' length
        equity = np.repeat(np.concatenate(([starting_cash], np.asarray(tape.cash))), lasting)
        for at in range(0, n, _EQUITY_SLICE):
            part = slice(at, at + _EQUITY_SLICE)
            equity[part] += qty[part] * close[part]
        qty[~exposed] = 0.0
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
            equity=equity,
            position_qty=qty,
            trades=list(engine.trades),
            fills=self._fills_of(self.symbol),
            decisions=tape.decisions,
            fees_paid=float(engine.portfolio.fees),
            refused=tuple(tape.refused),
            settings={"bars_visited": len(tape.index)},
            # a run kept for its trades and equity alone (a trial) does not hold its
            # strategy's columns through the scoring: four of 16 MB on two million bars
            indicators={k: bars[k] for k in bars if k not in _PRICE_COLUMNS}
            if self.keep_records
            else {},
        )

    def _fills_of(self, symbol: str | None) -> Sequence[Fill]:
        """The venue's fills of ``symbol`` (None: of every symbol), as it kept them when
        it trades that symbol alone."""
        if self._fills is None:
            return []
        if symbol is None or set(self.exchange.markets) == {symbol}:
            return self._fills
        return [f for f in self._fills if f.symbol == symbol]

    def _portfolio_result(self, lanes: list[_Lane], start_ts_ms: int | None) -> BacktestResult:
        """The account over the union of the symbols' timestamps (see ``run_portfolio``)."""
        timeline = union_of_times([lane.bars.ts_ms for lane in lanes])
        first = 0 if start_ts_ms is None else int(np.searchsorted(timeline, start_ts_ms))
        n = len(timeline)
        starting_cash = float(self.engine.portfolio.starting_cash)
        # Cash after each visit, in visiting order (stable: lanes in the engine's order).
        offsets = [run_offset(lane.bars.ts_ms, timeline) for lane in lanes]
        for lane in lanes:
            lane.tape.flush()
        at = np.concatenate(
            [
                np.asarray(lane.tape.index, np.int64) + offset
                if offset is not None
                else np.searchsorted(
                    timeline, lane.bars.ts_ms[np.asarray(lane.tape.index, np.int64)]
                )
                for lane, offset in zip(lanes, offsets, strict=True)
            ]
        )
        cash_seen = np.concatenate([np.asarray(lane.tape.cash, np.float64) for lane in lanes])
        order = np.argsort(at, kind="stable")
        # the last visit at or before each time: counted (a bincount and a running sum, one
        # pass) rather than searched for at every time
        last = np.cumsum(np.bincount(at, minlength=n)) - 1
        cash = np.concatenate(([starting_cash], cash_seen[order]))[last + 1]
        equity, held = cash.copy(), np.zeros(n)
        legs: dict[str, Leg] = {}
        first_open: dict[str, float] = {}
        for lane, offset in zip(lanes, offsets, strict=True):
            tape = lane.tape
            leg = held_on(
                lane.bars,
                np.asarray(tape.index, np.int64),
                np.asarray(tape.qty, np.float64),
                np.asarray(tape.exposed, bool),
                timeline,
                offset,
            )
            equity += leg.value
            held += np.where(leg.exposed, leg.value, 0.0)
            base_bar = int(np.searchsorted(lane.bars.ts_ms, timeline[first]))
            first_open[lane.symbol] = float(lane.bars["open"][min(base_bar, lane.bars.n_bars - 1)])
            legs[lane.symbol] = leg.from_bar(first)
        basket = basket_prices(legs, first_open)
        opens = np.concatenate(([1.0], basket[:-1]))
        engine = self.engine
        return BacktestResult(
            symbol="+".join(engine.symbols),
            timeframe=engine.settings.timeframe,
            strategy_name=engine.strategy.name,
            strategy_config=dict(engine.strategy.get_config()),
            starting_cash=starting_cash,
            ts_ms=timeline[first:],
            open=opens,
            high=np.maximum(opens, basket),
            low=np.minimum(opens, basket),
            close=basket,
            equity=equity[first:],
            position_qty=held[first:],
            trades=list(engine.trades),
            fills=self._fills_of(None),
            decisions=self._tape.decisions,
            fees_paid=float(engine.portfolio.fees),
            refused=tuple(self._tape.refused),
            settings={
                "bars_visited": sum(len(lane.tape.index) for lane in lanes),
                "symbols": ", ".join(engine.symbols),
                "strategies": ", ".join(
                    f"{s} {engine.strategy_of(s).name}" for s in engine.symbols
                ),
            },
            legs=legs,
        )


def _earliest(lanes: list[_Lane]) -> tuple[int, _Lane | None, int]:
    """The least time a lane is due at, the first lane due then and how many are (None: no
    lane is due any more)."""
    now, count = -1, 0
    first: _Lane | None = None
    for lane in lanes:
        due = lane.due
        if due < 0 or (now >= 0 and due > now):
            continue
        if due == now:
            count += 1
        else:
            now, first, count = due, lane, 1
    return now, first, count


def _first_touch(
    low: np.ndarray,
    high: np.ndarray,
    low_numbers: Sequence[float],
    high_numbers: Sequence[float],
    start: int,
    stop: int,
    low_level: float,
    high_level: float,
) -> int:
    """First bar in ``[start, stop)`` whose range reaches a level, else ``stop``.

    Searches in growing chunks so a position held for many bars costs few numpy calls and a
    stop hit soon costs one small one. The bar ``argmax`` names is read back as a Python
    number (``low_numbers``/``high_numbers``: the same bars), not as a numpy scalar.
    """
    k, step = start, _FIRST_CHUNK
    has_low, has_high = low_level != -_INF, high_level != _INF
    while k < stop:
        end = min(stop, k + step)
        # One side only when nothing rests on the other (a lone stop: no level above).
        reached = low[k:end] <= low_level if has_low else high[k:end] >= high_level
        if has_low and has_high:
            reached |= high[k:end] >= high_level
        at = k + int(reached.argmax())  # its first bar, or ``k`` when none is: read it
        if low_numbers[at] <= low_level or high_numbers[at] >= high_level:
            return at
        k, step = end, step * 4
    return stop
