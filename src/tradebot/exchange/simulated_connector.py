"""SimulatedConnector: the async ExchangeConnector port over a SimulatedExchange and a history.

The backtester drives ``SimulatedExchange``'s synchronous core bar by bar; this adapter lets
anything written against the port (the live runner, the contract suite) trade on it instead,
with the sandbox's clock rule (docs/sandbox.md) so the two venues look alike (the candles and
the synthetic book are in ``simulated_market.py``):

* At time ``now`` the **current bar** is the bar that opened at ``now``; only its open is
  known (``fetch_ohlcv`` shows it with high = low = close = open and volume 0), and its open
  is the current price (ticker, synthetic book, market orders' funds check).
* ``advance()`` closes the current bar: market orders sent meanwhile fill at its open
  (``SimulatedExchange.open_bar``), resting orders are matched along its path
  (``trade_bar``), then the clock moves one timeframe on and the next bar opens. The sandbox
  fills a market order at once around the same open; here it fills when the bar is
  processed, which is the backtest's next-open rule.

Differences from the sandbox that remain: market orders stay OPEN until ``advance``; a limit
order that crosses the book rests until ``advance`` and then fills at the open (taker)
instead of at once; IOC/FOK/LIMIT_MAKER are treated as GTC limits (the core's rules).

A client order id is unique among open orders only, as on Binance: the id of an open order
returns that order, as ``CcxtConnector`` does when the venue answers "Duplicate order sent."
(the first request landed); the id of a closed order makes a new order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import (
    DataError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    ReplaceRefused,
)
from tradebot.domain.events import OrderFilled
from tradebot.domain.market import Candle, Market, OrderBook, Ticker, decimal_from_float
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.exchange.port import Balance
from tradebot.exchange.simulated import SimEvent, SimulatedExchange
from tradebot.exchange.simulated_market import BookShape, CandleHistory, opening, synthetic_book

T = TypeVar("T")
_MAX_ROWS = 1000  # the most candles or trades one call returns, as on Binance
_NEEDS_PRICE = frozenset(
    {OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT}
)
_NEEDS_STOP = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


class SimulatedConnector:
    """The ExchangeConnector port over a ``SimulatedExchange`` replaying a candle history."""

    def __init__(
        self, exchange: SimulatedExchange, history: CandleHistory, book: BookShape | None = None
    ) -> None:
        """Replay ``history`` on ``exchange`` from its start; bars before it count as closed.

        The connector drives the exchange's bars and clock from then on.

        Raises:
            DataError: the history has a symbol the exchange has no market for.
        """
        missing = sorted(set(history.symbols) - set(exchange.markets))
        if missing:
            raise DataError(f"candles of {', '.join(missing)} but the exchange has no such market")
        self.exchange = exchange
        self.history = history
        self.book = book or BookShape()
        self._clock_ms = history.start_ms
        self._bars_closed = 0  # the book's nonce: it is re-synthesised once a bar
        self._candle_subs: list[tuple[str, asyncio.Queue[Candle | None]]] = []
        self._order_subs: list[tuple[str | None, asyncio.Queue[Order | None]]] = []
        self._open_current(first=True)

    # -- the simulated clock -------------------------------------------------------------

    async def advance(self, bars: int = 1) -> None:
        """Close ``bars`` bars one by one (fills on the way), opening the next each time.

        Raises:
            DataError: the history ends; no bar after the current one to open.
        """
        history, sim = self.history, self.exchange
        for _ in range(bars):
            if self._clock_ms + history.tf_ms > history.end_ms:
                raise DataError(
                    f"the simulated history ends at {history.end_ms}: no bar left to open; "
                    "give the connector a longer history"
                )
            for symbol in history.symbols:
                candle = history.current(symbol, self._clock_ms)
                if candle is not None:
                    events = sim.open_bar(symbol, candle.ts_ms, *_ohlc(candle))
                    self._publish_events(events + sim.trade_bar(symbol))
                    self._publish_candle(symbol, candle)
            self._clock_ms += history.tf_ms
            self._bars_closed += 1
            self._open_current(first=False)
        await asyncio.sleep(0)  # let stream readers see the updates, as the sandbox does

    def _open_current(self, first: bool) -> None:
        # the current bar is known only by its open; at the start, the last closed bar (if
        # any) gives a symbol in a gap its price
        for symbol in self.history.symbols:
            candle = self.history.current(symbol, self._clock_ms)
            if candle is not None:
                o = candle.open
                self._publish_events(self.exchange.open_bar(symbol, candle.ts_ms, o, o, o, o))
                self._publish_candle(symbol, opening(candle))
            elif first and (prior := self.history.last_closed(symbol, self._clock_ms)):
                self.exchange.open_bar(symbol, prior.ts_ms, *_ohlc(prior))
        self.exchange.now_ms = self._clock_ms

    # -- market data ---------------------------------------------------------------------

    async def load_markets(self) -> dict[str, Market]:
        """Markets by symbol, with precision and limits."""
        return self.exchange.markets

    async def fetch_time(self) -> int:
        """The simulated clock (the current bar's open time), in epoch ms."""
        return self.exchange.now_ms

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Bars opened by now, oldest first; the last is the current bar (its open only).

        With ``since_ms`` the first ``limit`` bars from then, else the last ``limit``.

        Raises:
            InvalidOrder: unknown symbol, or a timeframe other than the replayed one.
        """
        self._replayed(symbol, timeframe)
        return _page(self.history.opened_by(symbol, self._clock_ms, since_ms), since_ms, limit)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Best bid/ask of the synthetic book and the current price.

        Raises:
            InvalidOrder: unknown symbol.
            ExchangeUnavailable: the symbol has no price yet (its history starts later).
        """
        book = await self.fetch_order_book(symbol, 1)
        price = self.exchange.last_price(symbol)
        return Ticker(symbol, self._clock_ms, book.bids[0].price, book.asks[0].price, price)

    async def fetch_order_book(self, symbol: str, limit: int = 20) -> OrderBook:
        """A synthetic book around the current price, ``limit`` levels a side at most.

        Raises:
            InvalidOrder: unknown symbol.
            ExchangeUnavailable: the symbol has no price yet (its history starts later).
        """
        market = self._market(symbol)
        mid = self._price(symbol)
        if mid <= 0:
            raise ExchangeUnavailable(f"{symbol} has no price yet at {self._clock_ms}")
        return synthetic_book(market, mid, self.book, limit, self._clock_ms, self._bars_closed)

    # -- account -------------------------------------------------------------------------

    async def fetch_balance(self) -> dict[str, Balance]:
        """Free and locked amount of every asset the account has held."""
        return self.exchange.balances()

    async def fetch_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """The order as it is now (a copy: later changes do not show in it).

        Raises:
            InvalidOrder: unknown symbol.
            OrderNotFound: no order of that id on ``symbol``.
        """
        return _snapshot(self._own(client_order_id, symbol))

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still working (market orders too, until the next bar opens)."""
        if symbol is not None:
            self._market(symbol)
        return [_snapshot(o) for o in self.exchange.open_orders(symbol)]

    async def fetch_my_trades(
        self,
        symbol: str,
        since_ms: int | None = None,
        limit: int = 500,
        from_id: int | None = None,
    ) -> list[Fill]:
        """The account's fills on ``symbol``, oldest first (paged like ``fetch_ohlcv``; by
        trade id, as Binance's ``fromId``, with ``from_id``)."""
        self._market(symbol)
        fills = [f for f in self.exchange.fills(symbol) if since_ms is None or f.ts_ms >= since_ms]
        if from_id is not None:
            fills = [f for f in fills if int(f.trade_id) >= from_id]
            return _page(fills, from_id, limit)
        return _page(fills, since_ms, limit)

    # -- orders --------------------------------------------------------------------------

    async def create_order(self, command: PlaceOrder) -> Order:
        """Place an order, or return the open order its client id already names.

        Checks run in ``CcxtConnector``'s order: the market's rules first (before "sending"),
        then the id, then the funds.

        Raises:
            InvalidOrder: unknown symbol, missing price or stop, below minimum amount/notional.
            InsufficientFunds: the free balance does not cover it (pending market buys count).
        """
        market = self._market(command.symbol)
        _check_rules(command, market, self._price(market.symbol))
        existing = self._known(command.client_order_id)
        if existing is not None and existing.is_open:
            return _snapshot(existing)
        self._check_market_buy_funds(command, market)
        order = self.exchange.submit(command)
        self._publish_orders([order])
        return _snapshot(order)

    async def cancel_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Cancel a working order (and its OCO partner) and release what it locked.

        Raises:
            InvalidOrder: unknown symbol.
            OrderNotFound: no such order on ``symbol``, or it is no longer working.
        """
        self._own(client_order_id, symbol)
        before = {o.client_order_id: o.status for o in self.exchange.open_orders(symbol)}
        order = self.exchange.cancel(client_order_id)
        changed = [self.exchange.order(cid) for cid in before]
        self._publish_orders([o for o in changed if o.status is not before[o.client_order_id]])
        return _snapshot(order)

    async def replace_order(
        self, old: ClientOrderId, command: PlaceOrder
    ) -> tuple[Order | None, Order]:
        """Cancel ``old`` and place ``command`` in one step, as ``CcxtConnector``'s
        cancel-replace does: the new order's rules first; an ``old`` that is not resting
        with nothing filled is left alone and nothing is placed.

        Raises:
            InvalidOrder: as ``create_order``, before anything is canceled.
            ReplaceRefused: ``old`` is unknown, closed or filled in part (nothing done), or
                the new order was refused after ``old`` was canceled.
        """
        market = self._market(command.symbol)
        _check_rules(command, market, self._price(market.symbol))
        current = self._known(old)
        if current is None or current.symbol != command.symbol:
            raise ReplaceRefused(f"cancel-replace refused: {old} is unknown")
        if current.status is not OrderStatus.OPEN or current.filled_qty > 0:
            raise ReplaceRefused(f"cancel-replace refused: {old} is {current.status.value}")
        canceled = await self.cancel_order(old, command.symbol)
        try:
            return canceled, await self.create_order(command)
        except OrderRejected as error:
            raise ReplaceRefused(f"cancel-replace refused: {old} canceled, {error}") from error

    def _market(self, symbol: str) -> Market:
        market = self.exchange.markets.get(symbol)
        if market is None:
            known = ", ".join(sorted(self.exchange.markets))
            raise InvalidOrder(f"unknown symbol {symbol!r}; this exchange trades {known}")
        return market

    def _replayed(self, symbol: str, timeframe: str) -> None:
        self._market(symbol)
        if timeframe != self.history.timeframe or symbol not in self.history.symbols:
            raise InvalidOrder(
                f"no {timeframe} candles of {symbol}: the simulated exchange replays "
                f"{self.history.timeframe} bars of {', '.join(self.history.symbols)}"
            )

    def _price(self, symbol: str) -> Decimal:
        return decimal_from_float(self.exchange.last_price(symbol))

    def _known(self, client_order_id: ClientOrderId) -> Order | None:
        try:
            return self.exchange.order(client_order_id)
        except OrderNotFound:
            return None

    def _own(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        self._market(symbol)
        order = self.exchange.order(client_order_id)
        if order.symbol != symbol:
            raise OrderNotFound(f"order {client_order_id} is on {order.symbol}, not {symbol}")
        return order

    def _check_market_buy_funds(self, command: PlaceOrder, market: Market) -> None:
        # The core locks nothing for a pending market buy (it checks funds at the fill), so
        # two pending buys could each pass; the sandbox, filling at once, refuses the second.
        if command.type is not OrderType.MARKET or command.side is not OrderSide.BUY:
            return
        quote, markets = market.quote, self.exchange.markets
        pending = [
            o.remaining_qty * self._price(o.symbol)
            for o in self.exchange.open_orders()
            if o.type is OrderType.MARKET and o.side is OrderSide.BUY
            if markets[o.symbol].quote == quote
        ]
        need = market.round_qty(command.qty) * self._price(market.symbol)
        balance = self.exchange.balances().get(quote)
        free = (balance.free if balance else Decimal(0)) - sum(pending, Decimal(0))
        if need > free:
            raise InsufficientFunds(
                f"Account has insufficient balance for requested action: buy {command.qty} "
                f"{market.symbol} needs {need:.8f} {quote}, {free:.8f} free after pending buys"
            )

    # -- streams and lifecycle -----------------------------------------------------------

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        """Stream the current bar, then each bar as it closes and the next as it opens.

        Raises:
            InvalidOrder: unknown symbol, or a timeframe other than the replayed one.
        """
        self._replayed(symbol, timeframe)
        queue: asyncio.Queue[Candle | None] = asyncio.Queue()
        current = self.history.current(symbol, self._clock_ms)
        if current is not None:
            queue.put_nowait(opening(current))
        entry = (symbol, queue)
        self._candle_subs.append(entry)
        return _drain(queue, lambda: _discard(self._candle_subs, entry))

    def watch_orders(self, symbol: str | None = None) -> AsyncIterator[Order]:
        """Stream every change of the account's orders from now on (copies)."""
        queue: asyncio.Queue[Order | None] = asyncio.Queue()
        entry = (symbol, queue)
        self._order_subs.append(entry)
        return _drain(queue, lambda: _discard(self._order_subs, entry))

    async def close(self) -> None:
        """End every stream."""
        for _, candle_queue in self._candle_subs:
            candle_queue.put_nowait(None)
        for _, order_queue in self._order_subs:
            order_queue.put_nowait(None)
        self._candle_subs.clear()
        self._order_subs.clear()

    def _publish_candle(self, symbol: str, candle: Candle) -> None:
        for wanted, queue in self._candle_subs:
            if wanted == symbol:
                queue.put_nowait(candle)

    def _publish_events(self, events: Iterable[SimEvent]) -> None:
        # one update per order and batch: the order's state after the batch
        ids = [
            e.fill.client_order_id if isinstance(e, OrderFilled) else e.client_order_id
            for e in events
        ]
        self._publish_orders([self.exchange.order(cid) for cid in dict.fromkeys(ids)])

    def _publish_orders(self, orders: Iterable[Order]) -> None:
        for order in orders:
            for wanted, queue in self._order_subs:
                if wanted in (None, order.symbol):
                    queue.put_nowait(_snapshot(order))


# -- helpers ---------------------------------------------------------------------------------


def _check_rules(command: PlaceOrder, market: Market, last_price: Decimal) -> None:
    # what CcxtConnector refuses before sending (exchange/ccxt/placement.py's build_request)
    for name, value, kinds in (
        ("price", command.price, _NEEDS_PRICE),
        ("stop_price", command.stop_price, _NEEDS_STOP),
    ):
        if command.type in kinds and (value is None or value <= 0):
            raise InvalidOrder(
                f"order {command.client_order_id}: {command.type.value} order on "
                f"{command.symbol} needs a positive {name}, got {value}"
            )
    price = command.price if command.type in _NEEDS_PRICE else None
    valuation = price or (last_price if command.type is OrderType.MARKET else None)
    valuation = valuation or command.price or command.stop_price
    if valuation:
        market.check_order(market.round_qty(command.qty), market.round_price(valuation))


def _page(rows: list[T], since_ms: int | None, limit: int) -> list[T]:
    limit = max(0, min(limit, _MAX_ROWS))
    return rows[:limit] if since_ms is not None else rows[len(rows) - limit :]


def _ohlc(candle: Candle) -> tuple[float, float, float, float]:
    return candle.open, candle.high, candle.low, candle.close


def _snapshot(order: Order) -> Order:
    return replace(order, fills=list(order.fills))


def _discard(subs: list[T], entry: T) -> None:
    if entry in subs:
        subs.remove(entry)


async def _drain(queue: asyncio.Queue[T | None], on_exit: Callable[[], None]) -> AsyncIterator[T]:
    try:
        while (item := await queue.get()) is not None:
            yield item
    finally:
        on_exit()
