"""TradingBot: the asyncio shell that runs the engine against a real (or sandbox) venue.

Per closed candle time it runs the cycle of design II.7: sync fills and order states from the
exchange for every symbol, evaluate each symbol's strategy on its rolling window, check risk,
send orders, persist the decisions. Several symbols share one connection (one rate budget)
and one wallet; their bars are decided in lock-step, as the backtest decides them. The
engine decides; this shell only does I/O. Every order's intent is written to the database
before it is sent, under a client id derived from the decision, so a crash at any point
leaves nothing the next start cannot reconcile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal

import structlog

from tradebot.domain.commands import Command, PlaceOrder, Step
from tradebot.domain.errors import ConfigError, ExchangeUnavailable
from tradebot.domain.events import (
    BarClosed,
    FlattenRequested,
    KillSwitchSet,
)
from tradebot.domain.market import Candle, timeframe_to_ms
from tradebot.domain.orders import Order, OrderStatus
from tradebot.domain.portfolio import Position
from tradebot.exchange.port import ExchangeConnector
from tradebot.execution.lifecycle import not_sent
from tradebot.execution.positions import Protection
from tradebot.orchestrator.bot_settings import BotSettings, Checkpoint
from tradebot.orchestrator.candle_feed import StreamedCandles, next_poll
from tradebot.orchestrator.candles import CandleWindow, closed_after, read_closed
from tradebot.orchestrator.collector import pause_collector, resume_collector
from tradebot.orchestrator.continuity import (
    FLATTEN_REQUEST,
    DowntimeGuard,
    kill_switch_at_cycle,
    portfolio_snapshot,
    record_skipped,
    restore_day,
    restore_locks,
    save_day,
    start_kill_switch,
)
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.journal import StepWriter
from tradebot.orchestrator.order_desk import OrderDesk
from tradebot.orchestrator.reach import Reach
from tradebot.orchestrator.recovery import EngineFactory, Recovery, restore_engine
from tradebot.orchestrator.restart import restarted, unsent_exits
from tradebot.orchestrator.trade_feed import TradeFeed, vouched
from tradebot.orchestrator.trade_log import BotObserver, BotStats, log_saved
from tradebot.orchestrator.venue_clock import VenueClock
from tradebot.state.reconcile import Reconciliation
from tradebot.state.repository import Repository

log = structlog.get_logger("tradebot.bot")
_UNCONFIRMED = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)


class TradingBot:
    """Paper or live trading of one or more symbols through one ``ExchangeConnector``."""

    def __init__(
        self,
        build_engine: EngineFactory,
        connector: ExchangeConnector,
        repository: Repository,
        settings: BotSettings,
        checkpoint: Checkpoint | None = None,
        observer: BotObserver | None = None,
    ) -> None:
        """Trade through ``connector``, keep state in ``repository``.

        ``checkpoint`` is called with each name of ``CHECKPOINTS`` as the cycle passes it:
        the seam crash tests use to kill the process between two steps that must both
        survive (an intent and its send, a fill and its record). ``observer`` hears of
        polls, cycles, orders sent and saved steps (the metrics plug in there).
        """
        self._checkpoint: Checkpoint = checkpoint or (lambda _name: None)
        self._observer = observer
        self._build_engine = build_engine
        self.connector = connector
        self.repo = repository
        self.settings = settings
        self.bar_ms = timeframe_to_ms(settings.timeframe)
        self.stats = BotStats()
        self.downtime = DowntimeGuard(settings.on_exchange_down)
        self._saved_day = -1
        self._engine: TradingEngine | None = None
        self._last_bar_ts: dict[str, int] = {}
        """Each symbol's newest bar decided (or skipped)."""
        self.trades = TradeFeed(connector)
        self.clock = VenueClock(connector)
        self._reach = Reach(self.bar_ms)
        """What the closed bars say of the working orders (``reach.py``)."""
        self._by_bars: set[str] = set()
        """Markets whose working orders the bars vouched for in this cycle (``_confirm``)."""
        self._windows = {
            s: CandleWindow(settings.window_bars + 1, self.bar_ms) for s in settings.symbols
        }
        """Each symbol's closed candles: the window a full fetch returns (one more than it
        decides on, as a poll may find two new bars)."""
        self._marks: dict[str, Decimal] = {}
        """Each symbol's newest close: the prices the account's snapshot values it at."""
        self._stop = asyncio.Event()
        self.recovery: Recovery | None = None
        self.writer = StepWriter(repository, self._position_of, self._saved)
        self.desk = OrderDesk(
            connector, lambda: self.engine, self.writer, self.trades, self.stats,
            self._checkpoint, observer,
        )  # fmt: skip
        """Sends the engine's commands and books the venue's answers (``order_desk.py``)."""
        self.candle_feed: StreamedCandles | None = None
        """The streamed candles (``BotSettings.stream_candles``), once ``start`` has run."""

    @property
    def engine(self) -> TradingEngine:
        """The engine, once ``start`` has run."""
        if self._engine is None:
            raise RuntimeError("TradingBot.start() must run before trading")
        return self._engine

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> Recovery:
        """Restore state, reconcile it with the exchange, and get ready to trade."""
        symbols, tf = self.settings.symbols, self.settings.timeframe
        markets = await self.connector.load_markets()
        if unknown := [s for s in symbols if s not in markets]:
            raise ConfigError(
                f"the exchange lists no market {', '.join(unknown)} (trading.symbols); "
                "check the spelling (BASE/QUOTE) or remove it"
            )
        if self.settings.stream_candles:  # subscribed before the windows are fetched
            keep = min(1000, self.settings.window_bars + 2)  # the window and two more
            self.candle_feed = StreamedCandles(self.connector, symbols, tf, keep)
            self.candle_feed.start()
        recovery = await restore_engine(
            self._build_engine, [markets[s] for s in symbols], self.connector, self.repo
        )
        self._engine, self.recovery = recovery.engine, recovery
        start_kill_switch(self.engine, self.repo)
        self.trades.read(recovery.fills)
        saved = {s: ts for s in symbols if (ts := self.repo.last_bar_ts(s, tf)) is not None}
        if saved:
            restore_day(self.engine, self.repo, max(saved.values()) + self.bar_ms)
            self._saved_day = self.engine.utc_day
        await self.trades.begin(symbols)
        now = await self.clock.read()
        for symbol in symbols:
            if symbol in saved:
                self._last_bar_ts[symbol] = saved[symbol]
                continue
            # A first start does not trade history: it starts with the next bar to close.
            closed = await self._closed_candles(symbol, now)
            if closed:
                self._last_bar_ts[symbol] = closed[-1].ts_ms
                self.repo.set_last_bar_ts(symbol, tf, closed[-1].ts_ms)
        await self.desk.execute(recovery.commands)
        await self._guard(now, recovery.reconciliation)
        log.info(
            "bot started",
            symbols=",".join(symbols),
            timeframe=tf,
            last_bar_ts=max(self._last_bar_ts.values(), default=None),
            discrepancies=len(recovery.reconciliation.discrepancies),
        )
        return recovery

    async def run(self) -> None:
        """Trade until ``stop()``: poll for closed candles, run a cycle for each, every
        ``poll_interval_s`` and, following candles on streams, as soon as they show a bar
        closed (after a failed poll the timer only); while the exchange is unreachable,
        look again every ``health_check_interval_s``."""
        while not self._stop.is_set():
            feed = self.candle_feed if await self.step() else None
            wait_s = self.settings.poll_interval_s
            if self.downtime.failures:
                wait_s = self.settings.health_check_interval_s
            await next_poll(self._stop, feed, self._last_bar_ts, wait_s)

    async def step(self) -> bool:
        """Poll once as the live loop does: True when it ran, False when it failed.

        A failure is counted in ``stats.errors`` and logged, never raised: an exchange that
        is down, rate-limiting or in maintenance is waited out, and the bars that closed
        meanwhile are caught up by the next poll that gets through.
        """
        return await self.guarded(self.poll)

    async def guarded(self, work: Callable[[], Awaitable[object]]) -> bool:
        """Run ``work`` (a poll, a cycle, a sync) as the top of the live cycle: a failure
        is counted, logged and answered False; the first success after the exchange was
        unreachable applies ``downtime.on_exchange_down`` (the execution service runs its
        cycles and syncs through here too)."""
        return await self.downtime.guarded(work, self.stats, self.repo)

    def stop(self) -> None:
        """Ask ``run`` to finish its cycle and return (signal handlers call this)."""
        self._stop.set()

    async def close(self) -> None:
        """Release the connection; protective stops stay on the exchange."""
        if self.candle_feed is not None:
            await self.candle_feed.close()
        await self.connector.close()

    # ----------------------------------------------------------------- the cycle
    async def poll(self) -> int:
        """Run the cycle for the newest closed candle(s); return how many bars it covered.

        The symbols' new bars are decided in time order, every symbol of one bar time in
        one cycle. After a gap (an outage, a stop) only each symbol's newest
        ``max_signal_age_bars`` bars are decided: a signal of hours ago traded at today's
        price is not the signal. The bars skipped get a decision record saying so. The
        venue's clock is read at the end, after the orders (``venue_clock.py``); the cyclic
        garbage collector is paused meanwhile (``collector.py``): a collection here would
        land between the bar's close and its order.
        """
        was_on = pause_collector()
        try:
            return await self._poll()
        finally:
            resume_collector(was_on)

    async def _poll(self) -> int:
        now = await self.clock.poll_started(2 * self.settings.poll_interval_s)
        keep, covered = self.settings.max_signal_age_bars, 0
        due: dict[int, dict[str, list[Candle]]] = {}
        newest: dict[str, int] = {}
        for symbol in self.settings.symbols:
            closed = await self._closed_candles(symbol, now)
            if closed:
                newest[symbol] = closed[-1].ts_ms + self.bar_ms
            new = closed_after(closed, self._last_bar_ts.get(symbol))
            covered += len(new)
            stale, fresh = new[:-keep], new[-keep:]
            if stale:
                self.skip(symbol, stale, f"{len(new)} bars closed since the last cycle; only "
                           f"the newest {keep} decided (trading.max_signal_age_bars)")  # fmt: skip
            # fresh is closed's tail: each window ends at its candle (list.index compared all)
            for end, candle in enumerate(fresh, len(closed) - len(fresh) + 1):
                window = closed[max(0, end - self.settings.window_bars) : end]
                due.setdefault(candle.ts_ms, {})[symbol] = window
        if self._observer is not None:
            self._observer.on_candles(now, newest)
        for ts in sorted(due):
            await self.cycle(due[ts])
        await self.clock.poll_ended()
        return covered

    async def cycle(self, windows: Mapping[str, Sequence[Candle]]) -> None:
        """One decision cycle: each symbol's window ends with the bar that just closed (all
        at one bar time).

        Every symbol's bar is walked by the venue before any is decided (the fills of the
        bar are synced first), then the symbols decide in the engine's order, and only then
        are their orders sent, as in a backtest. Each decision and the intents of the
        orders it sends are saved in one transaction, with the bar marked decided, before
        anything is sent: a crash after that never decides the bar again (the venue may
        hold its orders, recovery finds them by client id). The cyclic garbage collector is
        paused meanwhile, as in ``poll``.
        """
        was_on = pause_collector()
        try:
            await self._cycle(windows)
        finally:
            resume_collector(was_on)

    async def _cycle(self, windows: Mapping[str, Sequence[Candle]]) -> None:
        engine, repo = self.engine, self.repo
        ts, started = next(iter(windows.values()))[-1].ts_ms, time.perf_counter()
        self._checkpoint("bar_closed")
        self._flush_unsaved()
        await self.sync_exchange(windows)
        controls = repo.controls([FLATTEN_REQUEST], locks_after_ms=ts)
        level = kill_switch_at_cycle(controls.kill_switch, bool(self.writer.unsaved))
        await self.desk.execute(engine.handle(KillSwitchSet(level)).commands)
        restore_locks(engine, controls.locks)
        if controls.values.get(FLATTEN_REQUEST) == "1":
            await self.flatten(ts)
        order = [s for s in engine.symbols if s in windows]
        sizes = {s: engine.prepare(self._windows[s].bars(windows[s]), s).n_bars for s in order}
        decided: list[Sequence[Command]] = []
        try:
            for symbol in order:
                bar = windows[symbol][-1]
                step = engine.handle(BarClosed(symbol, bar.ts_ms, sizes[symbol] - 1))
                self._decide(step, symbol, bar)
                decided.append(step.commands)
                self._last_bar_ts[symbol] = bar.ts_ms  # saved as decided with it
                self._marks[symbol] = Decimal(repr(bar.close))
                self._saved_day = save_day(engine, repo, self._saved_day)
        finally:
            await self._send(decided)
        repo.record_snapshot(portfolio_snapshot(engine.portfolio, ts, self._marks))
        self.stats.cycles += 1
        if self._observer is not None:
            self._observer.on_cycle(ts, time.perf_counter() - started)
        await self._confirm()  # last: a venue that fails it now fails no part of the bar

    async def _send(self, decided: list[Sequence[Command]]) -> None:
        """Send what the symbols decided at one close, after all of them decided: each
        decides on the account as it stood at the close, as in a backtest (a fill the
        venue answers at once would otherwise change what a later symbol sees)."""
        for k, commands in enumerate(decided):
            try:
                await self.desk.execute(commands)
            except ExchangeUnavailable:
                for rest in decided[k + 1 :]:
                    self.desk.not_sent(rest)
                raise

    def _decide(self, step: Step, symbol: str, bar: Candle) -> None:
        """Save the bar's decision, its order intents and "bar decided", atomically."""
        try:
            decided = (symbol, self.settings.timeframe, bar.ts_ms)
            self.writer.save(step, decided=decided)
        except Exception:
            # Nothing was saved, so nothing may be sent: close the intents in memory and
            # let the cycle fail; the bar is decided again at the next poll.
            placed = [o.client_order_id for o in step.orders if o.status in _UNCONFIRMED]
            for event in not_sent(placed, symbol, bar.ts_ms, "decision not saved"):
                self.engine.handle(event)
            raise
        if step.decision is not None:
            self._checkpoint("decision_saved")
        if any(isinstance(c, PlaceOrder) for c in step.commands):
            self._checkpoint("intent_saved")

    def skip(self, symbol: str, stale: Sequence[Candle], reason: str) -> None:
        """Record ``stale`` bars of ``symbol`` as decided without trading (each gets a
        decision saying why), so they are never decided later."""
        timeframe = self.settings.timeframe
        record_skipped(self.engine, self.repo, self._marks, timeframe, symbol, stale, reason)
        self._last_bar_ts[symbol] = stale[-1].ts_ms
        log.warning("bars skipped", symbol=symbol, count=len(stale), reason=reason)

    async def sync_exchange(
        self,
        closed: Mapping[str, Sequence[Candle]] | None = None,
        symbols: Sequence[str] | None = None,
    ) -> None:
        """Book fills made since the last cycle and follow orders the venue closed, for
        ``symbols`` (every symbol when None).

        A symbol's trades are asked only while an order of the bot's there may have filled
        since they were last asked: an order call was made since (a cancelled stop may have
        filled in part first), or a working order is reached by a bar of ``closed`` (the
        cycle's closed candles) since its placement (``reach.py``) and not listed as resting
        with the amount booked filled (``vouched``). An entry, or an exit by a resting stop
        no bar reached, asks nothing before its orders (``_confirm`` asks after them)."""
        engine, vouched_at, markets = self.engine, {}, symbols or self.settings.symbols
        self._reach.follow(closed or {}, engine.view.open_orders)
        for symbol in markets:
            if symbol in self.desk.fills_known:
                mine = engine.view.open_orders(symbol)
                if not mine:
                    continue
                if await self._untouched(symbol, mine, by_bars=closed is not None):
                    vouched_at[symbol] = self.desk.order_calls  # none to follow
                    continue
            self.desk.fills_known.discard(symbol)
            calls = self.desk.order_calls
            # What a fill or a closed order calls for (the stop of an entry whose fill is
            # learnt only here, after a lost answer) is sent now, not dropped.
            await self.desk.execute(self.desk.apply(await self.trades.new_fills(symbol)))
            if calls == self.desk.order_calls:
                self.desk.fills_known.add(symbol)
        for symbol in markets:
            mine = engine.view.open_orders(symbol)
            if not mine or vouched_at.get(symbol) == self.desk.order_calls:
                continue
            venue_open = {o.client_order_id for o in await self.connector.fetch_open_orders(symbol)}
            for order in mine:
                if order.client_order_id not in venue_open:
                    await self.desk.execute(await self.desk.follow(order.client_order_id, symbol))

    async def _untouched(self, symbol: str, mine: Sequence[Order], by_bars: bool) -> bool:
        """Whether none of ``mine`` can have filled beyond what is booked: in a cycle
        (``by_bars``) the closed bars may say so (the venue is then asked once the orders
        are out: ``_confirm``), else the venue's open orders must list each as resting with
        the amount booked filled. A sync between bars has no new bar to go by."""
        if by_bars and self._reach.untouched(symbol, mine):
            self._by_bars.add(symbol)
            return True
        return vouched(mine, await self.connector.fetch_open_orders(symbol))

    async def _confirm(self) -> None:
        """Once a cycle's orders are out, ask the venue what the next cycle would otherwise
        ask before its decision. The markets the bars vouched for (``reach.py``): an order it
        no longer lists as resting with the amount booked (cancelled by hand on the venue,
        expired) is followed now, not when the price next comes near it. The markets with an
        order call in this cycle: their trades and open orders (``sync_exchange``), so that
        the next bar's exit, say right after an entry, has no request before it."""
        for symbol in self._by_bars:
            mine = self.engine.view.open_orders(symbol)
            if symbol not in self.desk.fills_known or not mine:
                continue
            if not await self._untouched(symbol, mine, by_bars=False):
                self.desk.fills_known.discard(symbol)
        self._by_bars.clear()
        if unsure := [s for s in self.settings.symbols if s not in self.desk.fills_known]:
            await self.sync_exchange(symbols=unsure)

    async def flatten(self, ts_ms: int) -> None:
        """Cancel every order and sell every position at market (`tradebot stop --flatten`)."""
        for symbol in self.settings.symbols:
            step = self.engine.handle(FlattenRequested(symbol, ts_ms))
            await self.desk.execute(self.desk.step(step))
        self.repo.set_control(FLATTEN_REQUEST, "0")

    def _flush_unsaved(self) -> None:
        """Save what earlier failures kept in memory; raise (the cycle is retried) if it
        still fails."""
        if self.writer.unsaved:
            self.writer.flush()
            log.warning("state saved after an earlier failure")

    # ----------------------------------------------------------------- helpers
    def _saved(self, step: Step, trade_ids: Sequence[int]) -> None:
        log_saved(step, trade_ids)
        if self._observer is not None:
            self._observer.on_saved(step, trade_ids)

    def _position_of(self, symbol: str) -> tuple[Position | None, Protection | None]:
        view = self.engine.view
        return view.position(symbol), view.protection_of(symbol)

    async def _guard(self, now: int, reconciliation: Reconciliation) -> None:
        """At start: send an exit saved and never sent, or guard a position (``restart.py``)."""
        self.engine.handle(KillSwitchSet(kill_switch_at_cycle(self.repo.kill_switch(), False)))
        unsent = unsent_exits(reconciliation, self.repo)
        for symbol in [s for s in self.settings.symbols if not self.engine.view.is_flat(s)]:
            if closed := await self._closed_candles(symbol, now):
                window = self._windows[symbol].bars(closed[-self.settings.window_bars :])
                bar = self.engine.prepare(window, symbol)
                age = self.settings.max_signal_age_bars
                event = restarted(symbol, closed, bar.n_bars - 1, unsent.get(symbol), age)
                await self.desk.execute(self.desk.step(self.engine.handle(event)))

    async def _closed_candles(self, symbol: str, now: int) -> list[Candle]:
        window, timeframe = self._windows[symbol], self.settings.timeframe
        return await read_closed(self.connector, window, self.candle_feed, symbol, timeframe, now)
