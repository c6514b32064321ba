"""TradingBot: the asyncio shell that runs the engine against a real (or sandbox) venue.

Per closed candle it runs the cycle of design II.7: sync fills and order states from the
exchange, evaluate the strategy on a rolling window, check risk, send orders, persist the
decision. The engine decides; this shell only does I/O. Every order's intent is written to
the database before it is sent, under a client id derived from the decision, so a crash at
any point leaves nothing the next start cannot reconcile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog

from tradebot.data.frame import candles_to_frame
from tradebot.domain.commands import CancelOrder, Command, PlaceOrder
from tradebot.domain.errors import ExchangeUnavailable, OrderNotFound, OrderRejected
from tradebot.domain.events import OrderUpdated
from tradebot.domain.market import Candle, Market, timeframe_to_ms
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderStatus
from tradebot.domain.portfolio import Portfolio, Trade
from tradebot.exchange.port import ExchangeConnector
from tradebot.orchestrator.continuity import (
    FLATTEN_REQUEST,
    DowntimeGuard,
    DowntimePolicy,
    portfolio_snapshot,
    restore_day,
    save_day,
)
from tradebot.orchestrator.engine import TradingEngine, last_atr
from tradebot.orchestrator.recovery import Recovery, restore_engine
from tradebot.risk.controller import KillSwitch
from tradebot.state.reconcile import fill_key
from tradebot.state.repository import Repository
from tradebot.state.rows import SavedPosition

log = structlog.get_logger("tradebot.bot")
EngineFactory = Callable[[Market, Portfolio], TradingEngine]
Checkpoint = Callable[[str], None]
_UNCONFIRMED = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)
CHECKPOINTS = (
    "bar_closed", "decision_saved", "intent_saved", "order_sent", "fill_booked", "fill_saved",
)  # fmt: skip
"""Named moments of the cycle a ``checkpoint`` hook is told about (crash tests stop there)."""


@dataclass(frozen=True, slots=True)
class BotSettings:
    """What the shell needs beyond the engine."""

    symbol: str
    timeframe: str
    window_bars: int = 400
    poll_interval_s: float = 5.0
    on_exchange_down: DowntimePolicy = DowntimePolicy.WAIT


@dataclass(slots=True)
class BotStats:
    """Counters a person (and the tests) can read."""

    cycles: int = 0
    orders_sent: int = 0
    fills: int = 0
    errors: int = 0
    seen_fills: set[str] = field(default_factory=set)


class TradingBot:
    """Paper or live trading of one symbol through an ``ExchangeConnector``."""

    def __init__(
        self,
        build_engine: EngineFactory,
        connector: ExchangeConnector,
        repository: Repository,
        settings: BotSettings,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """Trade through ``connector``, keep state in ``repository``.

        ``checkpoint`` is called with each name of ``CHECKPOINTS`` as the cycle passes it:
        the seam crash tests use to kill the process between two steps that must both
        survive (an intent and its send, a fill and its record).
        """
        self._checkpoint: Checkpoint = checkpoint or (lambda _name: None)
        self._build_engine = build_engine
        self.connector = connector
        self.repo = repository
        self.settings = settings
        self.bar_ms = timeframe_to_ms(settings.timeframe)
        self.stats = BotStats()
        self.downtime = DowntimeGuard(settings.on_exchange_down)
        self._saved_day = -1
        self._engine: TradingEngine | None = None
        self._last_bar_ts: int | None = None
        self._last_fill_ms: int | None = None
        self._stop = asyncio.Event()
        self.recovery: Recovery | None = None

    @property
    def engine(self) -> TradingEngine:
        """The engine, once ``start`` has run."""
        if self._engine is None:
            raise RuntimeError("TradingBot.start() must run before trading")
        return self._engine

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> Recovery:
        """Restore state, reconcile it with the exchange, and get ready to trade."""
        symbol, tf = self.settings.symbol, self.settings.timeframe
        market = (await self.connector.load_markets())[symbol]
        recovery = await restore_engine(self._build_engine, market, self.connector, self.repo)
        self._engine, self.recovery = recovery.engine, recovery
        self.stats.seen_fills.update(fill_key(f) + f.client_order_id for f in recovery.fills)
        self._last_fill_ms = max((f.ts_ms for f in recovery.fills), default=None)
        self._last_bar_ts = self.repo.last_bar_ts(symbol, tf)
        if self._last_bar_ts is not None:
            restore_day(self.engine, self.repo, self._last_bar_ts + self.bar_ms)
            self._saved_day = self.engine.utc_day
        if self._last_bar_ts is None:
            # A first start does not trade history: it starts with the next bar to close.
            closed = await self._closed_candles()
            self._last_bar_ts = closed[-1].ts_ms if closed else None
            if self._last_bar_ts is not None:
                self.repo.set_last_bar_ts(symbol, tf, self._last_bar_ts)
        await self._execute(recovery.commands)
        log.info(
            "bot started",
            symbol=symbol,
            timeframe=tf,
            last_bar_ts=self._last_bar_ts,
            discrepancies=len(recovery.reconciliation.discrepancies),
        )
        return recovery

    async def run(self) -> None:
        """Trade until ``stop()``: poll for closed candles, run a cycle for each."""
        while not self._stop.is_set():
            await self.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.poll_interval_s)

    async def step(self) -> bool:
        """Poll once as the live loop does: True when it ran, False when it failed.

        A failure is counted in ``stats.errors`` and logged, never raised: an exchange that
        is down, rate-limiting or in maintenance is waited out, and the bars that closed
        meanwhile are caught up by the next poll that gets through.
        """
        try:
            await self.poll()
        except ExchangeUnavailable as exc:
            self.stats.errors += 1
            self.downtime.on_failure()
            log.warning("exchange unavailable; waiting", error=str(exc))
            return False
        except Exception:  # the top of the live cycle: log, count, keep going
            self.stats.errors += 1
            log.exception("cycle failed")
            return False
        applied = self.downtime.on_success(self.repo)
        if applied is not None:
            log.warning("exchange back after an outage", policy=str(applied))
        return True

    def stop(self) -> None:
        """Ask ``run`` to finish its cycle and return (signal handlers call this)."""
        self._stop.set()

    async def close(self) -> None:
        """Release the connection; protective stops stay on the exchange."""
        await self.connector.close()

    # ----------------------------------------------------------------- the cycle
    async def poll(self) -> int:
        """Run one cycle for every candle that closed since the last; return how many."""
        closed = await self._closed_candles()
        new = [c for c in closed if self._last_bar_ts is None or c.ts_ms > self._last_bar_ts]
        for candle in new:
            window = [c for c in closed if c.ts_ms <= candle.ts_ms][-self.settings.window_bars :]
            await self.cycle(window)
        return len(new)

    async def cycle(self, window: list[Candle]) -> None:
        """One decision cycle on the window whose last candle just closed."""
        engine, repo = self.engine, self.repo
        bar = window[-1]
        self._checkpoint("bar_closed")
        await self.sync_exchange()
        engine.kill_switch = KillSwitch(repo.kill_switch().value)
        if repo.get_control(FLATTEN_REQUEST) == "1":
            await self.flatten(bar.ts_ms)
        bars = engine.prepare(candles_to_frame(window))
        await self._execute(engine.protect_position(bar.ts_ms, last_atr(bars)))
        commands, decision = engine.on_bar_closed(bars, bars.n_bars - 1)
        self._saved_day = save_day(engine, repo, self._saved_day)
        decision_id: str | None = None
        if decision is not None:
            decision_id = str(repo.append_decision(decision))
            self._checkpoint("decision_saved")
        await self._execute(commands, decision_id)
        self._last_bar_ts = bar.ts_ms
        repo.set_last_bar_ts(self.settings.symbol, self.settings.timeframe, bar.ts_ms)
        self.repo.record_snapshot(portfolio_snapshot(self.engine.portfolio, bar))
        self.stats.cycles += 1

    async def sync_exchange(self) -> None:
        """Book fills made since the last cycle and follow orders the venue closed."""
        engine = self.engine
        since = None if self._last_fill_ms is None else self._last_fill_ms - 1
        fills = await self.connector.fetch_my_trades(self.settings.symbol, since_ms=since)
        # What a fill or a closed order calls for (the stop of an entry whose fill is learnt
        # only here, after a lost answer) is sent now, not dropped.
        await self._execute(await self._book_fills(fills))
        mine = engine.router.open_orders(self.settings.symbol)
        if not mine:
            return
        venue_open = {
            o.client_order_id for o in await self.connector.fetch_open_orders(self.settings.symbol)
        }
        for order in mine:
            if order.client_order_id not in venue_open:
                await self._execute(await self._follow(order.client_order_id))

    async def flatten(self, ts_ms: int) -> None:
        """Cancel every order and sell the position at market (``tradebot stop --flatten``)."""
        engine = self.engine
        commands: list[Command] = [
            CancelOrder(o.client_order_id, o.symbol, "flatten")
            for o in engine.router.open_orders(self.settings.symbol)
        ]
        await self._execute(commands)
        await self._execute(engine.flatten(ts_ms))
        self.repo.set_control(FLATTEN_REQUEST, "0")

    # ----------------------------------------------------------------- commands
    async def _execute(self, commands: Iterable[Command], decision_id: str | None = None) -> None:
        queue = deque(commands)
        try:
            while queue:
                cmd = queue.popleft()
                if isinstance(cmd, CancelOrder):
                    queue.extend(await self._cancel(cmd))
                else:
                    queue.extend(await self._place(cmd, decision_id))
        except ExchangeUnavailable:
            self._not_sent(queue, decision_id)
            raise

    def _not_sent(self, queue: Iterable[Command], decision_id: str | None) -> None:
        """Close the orders a failed step kept from being sent, in the router and the database.

        The engine registered them when it decided; left open they would be followed up as
        orders the venue lost. The bar is decided again at the next poll.
        """
        for cmd in queue:
            if not isinstance(cmd, PlaceOrder):
                continue
            for cid in (cmd.client_order_id, cmd.take_profit_id):
                order = None if cid is None else self.engine.router.get(cid)
                if order is not None and order.status is OrderStatus.SUBMITTING:
                    self.repo.record_order_intent(order, decision_id)
                    self._status(order.client_order_id, OrderStatus.REJECTED, "not sent")

    async def _place(self, cmd: PlaceOrder, decision_id: str | None) -> list[Command]:
        engine = self.engine
        order = engine.router.get(cmd.client_order_id)
        take_profit = None if cmd.take_profit_id is None else engine.router.get(cmd.take_profit_id)
        for intent in (order, take_profit):  # an OCO list: both legs, before it is sent
            if intent is not None:
                self.repo.record_order_intent(intent, decision_id)
        if order is not None:
            self._checkpoint("intent_saved")
        try:
            venue = await self.connector.create_order(cmd)
        except OrderRejected as exc:
            log.warning("order rejected", client_order_id=cmd.client_order_id, reason=str(exc))
            return self._status(cmd.client_order_id, OrderStatus.REJECTED, str(exc))
        except ExchangeUnavailable as exc:
            log.warning("order state unknown", client_order_id=cmd.client_order_id, error=str(exc))
            if order is not None and order.status is OrderStatus.SUBMITTING:
                order.transition(OrderStatus.UNKNOWN, order.updated_ts_ms)
                self.repo.update_order(order)
            return []
        self.stats.orders_sent += 1
        self._checkpoint("order_sent")
        if take_profit is not None and take_profit.status is OrderStatus.SUBMITTING:
            engine.router.on_status(
                take_profit.client_order_id, OrderStatus.OPEN, venue.updated_ts_ms
            )
            self.repo.update_order(take_profit)
        return await self._absorb(venue)

    async def _cancel(self, cmd: CancelOrder) -> list[Command]:
        try:
            venue = await self.connector.cancel_order(cmd.client_order_id, cmd.symbol)
        except OrderNotFound:
            return await self._follow(cmd.client_order_id)
        return await self._absorb(venue)

    async def _follow(self, client_order_id: ClientOrderId) -> list[Command]:
        """Look an order up and adopt what the venue says about it."""
        try:
            venue = await self.connector.fetch_order(client_order_id, self.settings.symbol)
        except OrderNotFound:
            return self._status(client_order_id, OrderStatus.REJECTED, "unknown to the venue")
        return await self._absorb(venue)

    async def _absorb(self, venue: Order) -> list[Command]:
        """Book a venue's report of an order: new fills first, then its status."""
        commands = await self._book_fills(venue.fills)
        order = self.engine.router.get(venue.client_order_id)
        if order is None:
            return commands
        status = venue.status
        if status is OrderStatus.UNKNOWN:
            return commands
        if order.is_open and status is not order.status and status is not OrderStatus.FILLED:
            if not status.is_terminal and order.status in _UNCONFIRMED:
                self.engine.router.on_status(
                    order.client_order_id, OrderStatus.OPEN, venue.updated_ts_ms
                )
            elif status.is_terminal:
                commands += self._status(order.client_order_id, status, venue.reason)
        if venue.exchange_order_id:
            order.exchange_order_id = venue.exchange_order_id
        self.repo.update_order(order)
        return commands

    async def _book_fills(self, fills: Iterable[Fill]) -> list[Command]:
        commands: list[Command] = []
        for fill in sorted(fills, key=lambda f: f.ts_ms):
            key = fill_key(fill) + fill.client_order_id
            if key in self.stats.seen_fills:
                continue
            order = self.engine.router.get(fill.client_order_id)
            if order is None:
                continue  # not the bot's order: reconciliation reports it
            self.stats.seen_fills.add(key)
            closed_before, open_before = len(self.engine.trades), self._open_ids()
            commands += self.engine.on_fill(fill)
            trade = self.engine.trades[-1] if len(self.engine.trades) > closed_before else None
            self._checkpoint("fill_booked")
            self._persist_fill(fill, order, trade)
            self._save_closed(open_before, fill.client_order_id)
            self._checkpoint("fill_saved")
            self.stats.fills += 1
            self._last_fill_ms = max(self._last_fill_ms or 0, fill.ts_ms)
        return commands

    def _persist_fill(self, fill: Fill, order: Order, trade: Trade | None) -> None:
        engine = self.engine
        position = engine.positions.position(fill.symbol)
        guard = engine.positions.protection_of(fill.symbol)
        if position is not None:
            stop, target = (guard.stop_price, guard.take_profit_price) if guard else (None, None)
            self.repo.record_execution(fill, order, SavedPosition(position, stop, target), trade)

    def _open_ids(self) -> set[ClientOrderId]:
        return {o.client_order_id for o in self.engine.router.open_orders()}

    def _save_closed(self, open_before: set[ClientOrderId], handled: ClientOrderId) -> None:
        # An order the engine closed as a consequence (the OCO partner the venue cancels
        # with its leg) is saved too, or the database would show it working until a restart.
        for cid in open_before - self._open_ids() - {handled}:
            order = self.engine.router.get(cid)
            if order is not None:
                self.repo.update_order(order)

    def _status(self, cid: ClientOrderId, status: OrderStatus, reason: str) -> list[Command]:
        order = self.engine.router.get(cid)
        if order is None or not order.is_open:
            return []
        ts = order.updated_ts_ms
        if order.status is OrderStatus.SUBMITTING and status is OrderStatus.CANCELED:
            self.engine.router.on_status(cid, OrderStatus.OPEN, ts)
        open_before = self._open_ids()
        commands = self.engine.on_order_update(OrderUpdated(cid, order.symbol, status, ts, reason))
        self.repo.update_order(order)
        self._save_closed(open_before, cid)
        return commands

    # ----------------------------------------------------------------- helpers
    async def _closed_candles(self) -> list[Candle]:
        """Candles that have closed: never the last one a venue returns, which is the bar
        still forming (Binance always includes it), nor any whose close is still ahead of
        the venue's clock."""
        now = await self.connector.fetch_time()
        limit = min(1000, self.settings.window_bars + 2)
        candles = await self.connector.fetch_ohlcv(
            self.settings.symbol, self.settings.timeframe, limit=limit
        )
        return [c for c in candles[:-1] if c.ts_ms + self.bar_ms <= now]
