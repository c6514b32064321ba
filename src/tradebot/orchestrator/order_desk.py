"""The bot's orders on their way to the venue and back: each command sent, each answer booked.

``TradingBot`` decides when; the desk sends what the engine's steps call for, one command
after the other (a cancel and the order after it in one request when they can:
``replace.py``), hands the venue's answers to the engine as events and saves each step
(``StepWriter``) before what it calls for is sent. A send that fails leaves nothing
unknown: a refusal closes the order with the venue's words, an ambiguous failure marks it
UNKNOWN until it is looked up (by client order id, never by sending it again).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal

import structlog

from tradebot.domain.commands import NOTHING, CancelOrder, Command, PlaceOrder, Step
from tradebot.domain.errors import ExchangeUnavailable, OrderNotFound, OrderRejected
from tradebot.domain.events import Event, OrderFilled, OrderUpdated
from tradebot.domain.orders import ClientOrderId, Order, OrderStatus
from tradebot.exchange.port import ExchangeConnector
from tradebot.execution.lifecycle import not_sent
from tradebot.orchestrator.bot_settings import Checkpoint
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.journal import StepWriter
from tradebot.orchestrator.replace import replacement
from tradebot.orchestrator.trade_feed import TradeFeed
from tradebot.orchestrator.trade_log import BotObserver, BotStats, log_order_sent

log = structlog.get_logger("tradebot.bot")


class OrderDesk:
    """Sends a bot's commands to its venue and books the answers through its engine."""

    def __init__(
        self,
        connector: ExchangeConnector,
        engine: Callable[[], TradingEngine],
        writer: StepWriter,
        trades: TradeFeed,
        stats: BotStats,
        checkpoint: Checkpoint,
        observer: BotObserver | None,
    ) -> None:
        """Send through ``connector`` what ``engine()``'s steps call for; save each step
        with ``writer``; complete an answer's fills from ``trades``."""
        self._connector = connector
        self._engine = engine
        self._writer = writer
        self._trades = trades
        self._stats = stats
        self._checkpoint = checkpoint
        self._observer = observer
        self.order_calls = 0
        """Calls that place, cancel or look up an order, counted as they start."""
        self.fills_known: set[str] = set()
        """Symbols whose trades were asked after the last order call there: a fill can come
        there only on an order still working (``TradingBot.sync_exchange``)."""
        self._acknowledged: deque[Step] = deque()
        """Cancels the venue acknowledged whose steps are saved after the next send."""

    # ----------------------------------------------------------------- events and steps
    def apply(self, events: Iterable[Event]) -> list[Command]:
        """Hand venue events to the engine; save each step; return the commands they call for."""
        commands: list[Command] = []
        for event in events:
            step = self._engine().handle(event)
            if step is NOTHING:
                continue
            if step.fills:
                self._checkpoint("fill_booked")
            commands.extend(self.step(step))
            if step.fills:
                self._checkpoint("fill_saved")
                self._stats.fills += len(step.fills)
        return commands

    def step(self, step: Step) -> tuple[Command, ...]:
        """Save a step (a failure keeps it for the next cycle); return its commands.

        A step that booked a fill is sent even when it could not be saved: it carries the
        new position's protection, and a position is never left without its stop.
        """
        self._save_acknowledged()
        self._writer.save_or_keep(step)
        return step.commands

    def _save_acknowledged(self) -> None:
        """Save the cancels the venue acknowledged (``_canceled``), in the order they came."""
        while self._acknowledged:
            self._writer.save_or_keep(self._acknowledged.popleft())

    # ----------------------------------------------------------------- commands
    async def execute(self, commands: Iterable[Command]) -> None:
        """Send ``commands`` and what the venue's answers call for, in order (a cancel and
        the order after it as one request when they can: ``replace.py``); on an exchange
        that stops answering, close the orders left unsent and raise."""
        queue = deque(commands)
        try:
            while queue:
                cmd = queue.popleft()
                if isinstance(cmd, PlaceOrder):
                    queue.extend(await self._place(cmd))
                    continue
                if queue and (place := replacement(cmd, queue[0], self._engine().view)):
                    queue.popleft()  # from here on it may be on the venue
                    if (replaced := await self._replace(cmd, place)) is not None:
                        queue.extend(replaced)
                        continue
                    queue.appendleft(place)  # refused, nothing placed: one at a time
                queue.extend(await self._cancel(cmd))
        except ExchangeUnavailable:
            self.not_sent(queue)
            raise
        finally:
            self._save_acknowledged()

    def not_sent(self, queue: Iterable[Command]) -> None:
        """Close the orders a failed step kept from being sent (their bar stays decided)."""
        for cmd in queue:
            if not isinstance(cmd, PlaceOrder):
                continue
            ids = [cid for cid in (cmd.client_order_id, cmd.take_profit_id) if cid is not None]
            ts = self._ts_of(cmd.client_order_id)
            self._step_all(not_sent(ids, cmd.symbol, ts, "not sent: exchange unavailable"))

    def _step_all(self, events: Iterable[Event]) -> list[Command]:
        """Hand ``events`` to the engine, save each step; the commands they call for."""
        commands: list[Command] = []
        for event in events:
            commands.extend(self.step(self._engine().handle(event)))
        return commands

    def _order_call(self, symbol: str) -> None:
        """An order call on ``symbol`` starts: its fills must be asked again."""
        self.order_calls += 1
        self.fills_known.discard(symbol)

    async def _place(self, cmd: PlaceOrder) -> list[Command]:
        symbol = cmd.symbol
        order = self._engine().view.order(cmd.client_order_id)
        if order is not None and order.status is not OrderStatus.SUBMITTING:
            return []  # closed unsent meanwhile (an exit resized after its stop sold)
        self._order_call(symbol)
        try:
            venue = await self._connector.create_order(cmd)
        except OrderRejected as exc:
            log.warning("order rejected", client_order_id=cmd.client_order_id, reason=str(exc))
            ids = [cmd.client_order_id] + ([cmd.take_profit_id] if cmd.take_profit_id else [])
            ts = self._ts_of(cmd.client_order_id)
            return self._step_all(not_sent(ids, symbol, ts, str(exc)))
        except ExchangeUnavailable as exc:
            return self._unknown(cmd, exc)
        return await self._sent(cmd, venue)

    async def _replace(self, cancel: CancelOrder, place: PlaceOrder) -> list[Command] | None:
        """Cancel and place in one request (``replace_order``: only a resting order with
        nothing filled is canceled). None when the venue refused it: nothing was placed,
        and the cancel and the order go one at a time, the cancel's answer sizing the order
        (a stop that sold in part first). A lost answer that the look-up found placed
        leaves the canceled order to the engine's own cancel of it or to the next sync."""
        self._order_call(cancel.symbol)
        try:
            old, venue = await self._connector.replace_order(cancel.client_order_id, place)
        except OrderRejected as exc:  # ReplaceRefused, or a rule the order breaks
            log.info("sent one at a time", client_order_id=place.client_order_id, why=str(exc))
            return None
        except ExchangeUnavailable as exc:
            return self._unknown(place, exc)
        commands = [] if old is None else await self._canceled(old)
        return commands + await self._sent(place, venue)

    def _unknown(self, cmd: PlaceOrder, exc: ExchangeUnavailable) -> list[Command]:
        """An order whose send failed ambiguously: UNKNOWN until looked up."""
        log.warning("order state unknown", client_order_id=cmd.client_order_id, error=str(exc))
        ts = self._ts_of(cmd.client_order_id)
        update = OrderUpdated(cmd.client_order_id, cmd.symbol, OrderStatus.UNKNOWN, ts, str(exc))
        return self._step_all([update])

    async def _sent(self, cmd: PlaceOrder, venue: Order) -> list[Command]:
        """Book an order the venue took (the cancels acknowledged before it saved first)."""
        symbol = cmd.symbol
        self._save_acknowledged()
        self._stats.orders_sent += 1
        self._checkpoint("order_sent")
        log_order_sent(cmd)
        if self._observer is not None:
            self._observer.on_order_sent(cmd)
        commands: list[Command] = []
        if cmd.take_profit_id is not None:  # the list was accepted whole
            commands += self._step_all(
                [OrderUpdated(cmd.take_profit_id, symbol, OrderStatus.OPEN, venue.updated_ts_ms)]
            )
        return commands + self.apply(await self._reported(venue))

    async def _cancel(self, cmd: CancelOrder) -> list[Command]:
        """Cancel; an acknowledgement that books no fill is saved once the order that
        follows it is sent (an exit after its stop's cancel), not before: its commit would
        hold the exit back, and the exit's intent is saved already. A crash in between
        leaves an order the database holds open and the venue closed, which the next start
        adopts from the venue, as any order that closed while the bot was away."""
        self._order_call(cmd.symbol)
        try:
            venue = await self._connector.cancel_order(cmd.client_order_id, cmd.symbol)
        except OrderNotFound:
            return await self.follow(cmd.client_order_id, cmd.symbol)
        return await self._canceled(venue)

    async def _canceled(self, venue: Order) -> list[Command]:
        events = await self._reported(venue)
        if any(isinstance(e, OrderFilled) for e in events):
            return self.apply(events)
        commands: list[Command] = []
        for event in events:
            step = self._engine().handle(event)
            if any(isinstance(c, PlaceOrder) for c in step.commands):
                commands.extend(self.step(step))  # a new order's intent is saved first
            elif step is not NOTHING:
                self._acknowledged.append(step)
                commands.extend(step.commands)
        return commands

    async def follow(self, client_order_id: ClientOrderId, symbol: str) -> list[Command]:
        """Look an order up and adopt what the venue says about it."""
        self._order_call(symbol)
        try:
            venue = await self._connector.fetch_order(client_order_id, symbol)
        except OrderNotFound:
            ts = self._ts_of(client_order_id)
            return self._step_all(not_sent([client_order_id], symbol, ts, "unknown to the venue"))
        return self.apply(await self._reported(venue))

    async def _reported(self, venue: Order) -> list[Event]:
        known = self._engine().view.order(venue.client_order_id)
        return await self._trades.reported(venue, known.filled_qty if known else Decimal(0))

    def _ts_of(self, client_order_id: ClientOrderId) -> int:
        order = self._engine().view.order(client_order_id)
        return order.updated_ts_ms if order is not None else 0
