"""Websocket streams (ccxt.pro) that survive drops: reconnect, poll REST meanwhile, catch up.

Each stream is a loop: wait for the next websocket update; if the socket drops (CCXT raises
a NetworkError and reconnects on the next ``watch_*``), poll the same data over REST at
``poll_interval_s`` until the socket is back. Candles and own orders additionally catch up
on resume: the candles since the last one seen are re-fetched with ``fetch_ohlcv`` (bars
that closed while the socket was down are not lost), and orders that left the open list
while down are looked up by client order id so their final state is reported.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import ccxt
import ccxt.pro as ccxt_pro

from tradebot.domain.errors import ExchangeUnavailable, OrderNotFound
from tradebot.domain.market import Candle, OrderBook, Ticker, timeframe_to_ms
from tradebot.domain.orders import ClientOrderId, Order, OrderSide
from tradebot.exchange.ccxt import parse
from tradebot.exchange.ccxt.decimal_guard import in_own_decimal_context
from tradebot.exchange.ccxt.errors import translate

if TYPE_CHECKING:
    from tradebot.exchange.ccxt.connector import CcxtConnector

T = TypeVar("T")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How streams behave while the websocket is down."""

    poll_interval_s: float = 2.0
    """REST polling period while the websocket is down (or when there is none)."""
    max_reconnect_delay_s: float = 30.0


@dataclass(frozen=True, slots=True)
class MarketTrade:
    """One public trade on the venue (not the account's own fill)."""

    symbol: str
    ts_ms: int
    price: float
    qty: float
    side: OrderSide
    trade_id: str | None = None
    """The venue's id of the trade (Binance's ``t``), which makes recording it idempotent."""


@dataclass(slots=True)
class _OrderTracker:
    # what a watch_orders stream has reported, to drop repeats and find orders closed unseen
    seen: dict[ClientOrderId, tuple[str, str]] = field(default_factory=dict)
    open: dict[ClientOrderId, str] = field(default_factory=dict)

    def is_new(self, order: Order) -> bool:
        key = (order.status.value, str(order.filled_qty))
        if self.seen.get(order.client_order_id) == key:
            return False
        self.seen[order.client_order_id] = key
        if order.is_open:
            self.open[order.client_order_id] = order.symbol
        else:
            self.open.pop(order.client_order_id, None)
        return True


class Streams:
    """The resilient watch loops of one connector."""

    def __init__(
        self, connector: CcxtConnector, pro: ccxt_pro.binance | None, settings: StreamSettings
    ) -> None:
        """Stream through ``pro`` (None: REST polling only) with ``connector`` for REST."""
        self._rest = connector
        self._pro = pro
        self._settings = settings
        self._closed = False

    async def close(self) -> None:
        """Stop every loop at its next turn."""
        self._closed = True

    async def _resilient(
        self,
        name: str,
        watch: Callable[[Any], Awaitable[Sequence[T]]],
        poll: Callable[[], Awaitable[Sequence[T]]],
        catch_up: bool,
    ) -> AsyncIterator[T]:
        failures = 0
        while not self._closed:
            if self._pro is not None:
                try:
                    items = await in_own_decimal_context(partial(watch, self._pro))
                except ccxt.BaseError as error:
                    mapped = translate(error, redact=self._rest.redact)
                    if not isinstance(mapped, ExchangeUnavailable):
                        raise mapped from error
                    failures += 1
                    self._rest.metrics.count(f"ws_drop.{name}")
                    _log.warning("%s stream down (%s); polling REST until it is back", name, mapped)
                else:
                    if failures and catch_up:
                        for item in await self._poll(poll):
                            yield item
                    failures = 0
                    for item in items:
                        yield item
                    continue
            for item in await self._poll(poll):
                yield item
            delay = min(self._settings.max_reconnect_delay_s, self._settings.poll_interval_s)
            await asyncio.sleep(delay)

    async def _poll(self, poll: Callable[[], Awaitable[Sequence[T]]]) -> Sequence[T]:
        try:
            items = await poll()
        except ExchangeUnavailable as error:
            _log.warning("REST poll failed too (%s); retrying", error)
            return []
        self._rest.metrics.count("stream_polls")
        return items

    async def candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        """Candles as they update and close, oldest first, never going backwards."""
        step_ms = timeframe_to_ms(timeframe)
        last: Candle | None = None

        async def watch(pro: ccxt_pro.binance) -> list[Candle]:
            return [parse.candle(r) for r in await pro.watch_ohlcv(symbol, timeframe)]

        async def poll() -> list[Candle]:
            since = None if last is None else last.ts_ms
            bars = await self._rest.fetch_ohlcv(symbol, timeframe, since, 1000 if since else 2)
            if last is not None:
                missed = sum(1 for b in bars if b.ts_ms > last.ts_ms + step_ms - 1) - 1
                self._rest.metrics.count("candles_refetched", max(0, missed))
            return bars

        async for bar in self._resilient("candles", watch, poll, catch_up=True):
            if last is None or bar.ts_ms > last.ts_ms or (bar.ts_ms == last.ts_ms and bar != last):
                last = bar
                yield bar

    async def tickers(self, symbol: str) -> AsyncIterator[Ticker]:
        """Tickers with best bid/ask (the full ticker channel, not the mini one)."""

        async def watch(pro: ccxt_pro.binance) -> list[Ticker]:
            return [parse.ticker(await pro.watch_ticker(symbol, {"name": "ticker"}), symbol)]

        async def poll() -> list[Ticker]:
            return [await self._rest.fetch_ticker(symbol)]

        async for tick in self._resilient("ticker", watch, poll, catch_up=False):
            yield tick

    async def order_books(self, symbol: str, limit: int) -> AsyncIterator[OrderBook]:
        """Book snapshots cut to ``limit`` levels a side."""

        async def watch(pro: ccxt_pro.binance) -> list[OrderBook]:
            book = parse.order_book(await pro.watch_order_book(symbol), symbol)
            return [
                OrderBook(book.symbol, book.ts_ms, book.bids[:limit], book.asks[:limit], book.nonce)
            ]

        async def poll() -> list[OrderBook]:
            return [await self._rest.fetch_order_book(symbol, limit)]

        async for book in self._resilient("order_book", watch, poll, catch_up=False):
            yield book

    async def trades(self, symbol: str) -> AsyncIterator[MarketTrade]:
        """Public trades; while down, nothing is polled (trades are not replayed)."""

        async def watch(pro: ccxt_pro.binance) -> list[MarketTrade]:
            return [_market_trade(t, symbol) for t in await pro.watch_trades(symbol)]

        async def poll() -> list[MarketTrade]:
            return []

        async for trade in self._resilient("trades", watch, poll, catch_up=False):
            yield trade

    async def orders(self, symbol: str | None) -> AsyncIterator[Order]:
        """Own order updates; each distinct (status, filled) state is reported once."""
        tracker = _OrderTracker()

        async def watch(pro: ccxt_pro.binance) -> list[Order]:
            return [parse.order(raw) for raw in await pro.watch_orders(symbol)]

        async def poll() -> list[Order]:
            now_open = await self._rest.fetch_open_orders(symbol)
            still = {o.client_order_id for o in now_open}
            gone = [(cid, sym) for cid, sym in tracker.open.items() if cid not in still]
            return now_open + await self._final_states(gone)

        async for order in self._resilient("orders", watch, poll, catch_up=True):
            if tracker.is_new(order):
                yield order

    async def _final_states(self, gone: list[tuple[ClientOrderId, str]]) -> list[Order]:
        found = []
        for cid, sym in gone:
            try:
                found.append(await self._rest.fetch_order(cid, sym))
            except OrderNotFound:
                _log.warning("order %s left the open list and the venue no longer knows it", cid)
        return found


def _market_trade(raw: dict[str, Any], symbol: str) -> MarketTrade:
    return MarketTrade(
        symbol=str(raw.get("symbol") or symbol),
        ts_ms=int(raw.get("timestamp") or 0),
        price=float(raw["price"]),
        qty=float(raw["amount"]),
        side=OrderSide(str(raw["side"])),
        trade_id=None if raw.get("id") is None else str(raw["id"]),
    )
