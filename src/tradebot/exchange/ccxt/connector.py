"""CcxtConnector: the ExchangeConnector port over CCXT's async REST client and ccxt.pro.

Every REST call goes through ``_call``: the shared weight budget is spent first, the call is
timed for the metrics, and a CCXT exception leaves as a tradebot error (mapped once, in
``errors.py``); a 429/418 blocks every process sharing the budget. Idempotent calls are
retried with backoff (``retry.py``); placing an order is not (see ``create_order``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailable,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    ReplaceRefused,
)
from tradebot.domain.market import Candle, Market, OrderBook, Ticker
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.exchange.ccxt import parse
from tradebot.exchange.ccxt.credentials import RedactingLogger, Redactor
from tradebot.exchange.ccxt.decimal_guard import in_own_decimal_context
from tradebot.exchange.ccxt.errors import DuplicateClientOrderId, IpBanned, translate
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.exchange.ccxt.placement import OrderRequest, build_oco_params, build_request
from tradebot.exchange.ccxt.ratelimit import SharedRateLimiter, request_weight
from tradebot.exchange.ccxt.retry import RetryPolicy, backoff_for, call_with_retry, gives_up
from tradebot.exchange.ccxt.stream import MarketTrade, Streams, StreamSettings
from tradebot.exchange.port import Balance

T = TypeVar("T")
_log = logging.getLogger(__name__)


class CcxtConnector:
    """Async access to one exchange account through CCXT (sandbox, testnet or live)."""

    def __init__(
        self,
        exchange: ccxt_async.binance,
        pro: ccxt_pro.binance | None = None,
        *,
        limiter: SharedRateLimiter,
        retry: RetryPolicy | None = None,
        metrics: ConnectorMetrics | None = None,
        redactor: Redactor | None = None,
        stop_limit_offset: Decimal = Decimal("0.005"),
        lookup_delay_s: float = 0.2,
        streams: StreamSettings | None = None,
        reference_max_age_s: float = 2.0,
    ) -> None:
        """Wrap ``exchange`` (REST) and ``pro`` (websockets, optional).

        CCXT's own per-instance throttle is switched off: the shared limiter replaces it, and
        two limiters in series would only double the waits. CCXT's built-in retry is off too,
        since it would resend order placements. Every market stream shares one websocket
        (ccxt.pro would open a connection per subscription, round robin up to 50): one
        connection follows every symbol traded. A market order's minimum notional is valued
        at the last price read (the newest candle's close, or a ticker) when it is at most
        ``reference_max_age_s`` old, else a ticker is asked first.
        """
        self.exchange = exchange
        self.pro = pro
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or ConnectorMetrics()
        self.redact = redactor or Redactor()
        self.stop_limit_offset = stop_limit_offset
        self.lookup_delay_s = lookup_delay_s
        self.reference_max_age_s = reference_max_age_s
        self._last_prices: dict[str, tuple[float, float]] = {}
        """Each symbol's last price read and when (``time.monotonic``)."""
        self._markets: dict[str, Market] = {}
        self._order_types: dict[str, frozenset[OrderType]] = {}
        self._replace_allowed: set[str] = set()
        """Markets whose exchangeInfo allows a cancel-replace (``cancelReplaceAllowed``)."""
        self._client_ids: dict[str, ClientOrderId] = {}
        self._rng = random.Random()  # noqa: S311 - retry jitter, not cryptography
        for client in (exchange, pro):
            if client is not None:
                client.enableRateLimit = False
                client.options["maxRetriesOnFailure"] = 0
                client.verbose = False
                client.logger = RedactingLogger(logging.getLogger("ccxt"), self.redact)
        if pro is not None:
            pro.options["streamLimits"] = {**pro.options.get("streamLimits", {}), "spot": 1}
        self.streams = Streams(self, pro, streams or StreamSettings())

    def __repr__(self) -> str:
        """Name the venue and URL only: the CCXT instance holds the key and secret."""
        return f"CcxtConnector({self.exchange.id}, {self.exchange.urls['api'].get('public')})"

    async def _call(self, endpoint: str, weight: int, call: Callable[[], Awaitable[T]]) -> T:
        await self.limiter.acquire(weight, endpoint=endpoint, max_block_s=self.retry.max_delay_s)
        started = time.perf_counter()
        try:
            result = await in_own_decimal_context(call)
        except ccxt.BaseError as error:
            mapped = translate(
                error, headers=self.exchange.last_response_headers, redact=self.redact
            )
            self.metrics.record_call(endpoint, time.perf_counter() - started, mapped)
            if isinstance(mapped, RateLimited):
                self._on_rate_limited(mapped)
            raise mapped from error
        self.metrics.record_call(endpoint, time.perf_counter() - started, None)
        self.limiter.observe(self.exchange.last_response_headers)
        return result

    def _on_rate_limited(self, error: RateLimited) -> None:
        self.metrics.count("banned" if isinstance(error, IpBanned) else "rate_limited")
        self.limiter.block(error.retry_after_s or None)
        _log.warning("%s", error)

    async def _read(self, endpoint: str, weight: int, call: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retry(
            lambda: self._call(endpoint, weight, call),
            self.retry,
            on_retry=lambda _attempt, _error: self.metrics.count("retry"),
        )

    # -- market data ---------------------------------------------------------------------

    async def load_markets(self) -> dict[str, Market]:
        """Markets by symbol, with precision, limits and the order types each accepts."""
        raw: dict[str, Any] = await self._read(
            "load_markets", request_weight("load_markets"), lambda: self.exchange.load_markets(True)
        )
        markets = {s: m for s, m in raw.items() if m.get("spot") and m.get("active") is not False}
        self._markets = {s: parse.market(m) for s, m in markets.items()}
        self._order_types = {s: parse.order_types(m) for s, m in markets.items()}
        self._replace_allowed = {
            s for s, m in markets.items() if (m.get("info") or {}).get("cancelReplaceAllowed")
        }
        return dict(self._markets)

    async def market(self, symbol: str) -> Market:
        """One market's rules, loading markets on first use."""
        if not self._markets:
            await self.load_markets()
        try:
            return self._markets[symbol]
        except KeyError:
            raise InvalidOrder(
                f"unknown symbol {symbol!r}; known: {', '.join(sorted(self._markets)[:10])}"
            ) from None

    async def fetch_time(self) -> int:
        """The exchange's clock, in epoch ms."""
        result: int = await self._read("fetch_time", 1, self.exchange.fetch_time)
        return int(result)

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Closed and current candles, oldest first."""
        rows = await self._read(
            "fetch_ohlcv",
            request_weight("fetch_ohlcv"),
            lambda: self.exchange.fetch_ohlcv(symbol, timeframe, since_ms, limit),
        )
        candles = [parse.candle(r) for r in rows]
        if since_ms is None and candles:  # the newest candle, still forming: the last price
            self._last_prices[symbol] = (candles[-1].close, time.monotonic())
        return candles

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Best bid/ask and last price."""
        raw = await self._read(
            "fetch_ticker",
            request_weight("fetch_ticker"),
            lambda: self.exchange.fetch_ticker(symbol),
        )
        ticker = parse.ticker(raw, symbol)
        self._last_prices[symbol] = (ticker.last, time.monotonic())
        return ticker

    async def _reference_price(self, symbol: str) -> Decimal:
        """The last price, to value a market order's notional: the one the poll just read
        when it is recent (no request between the decision and the order), else a ticker's.
        Only the local minimum-notional check uses it; the venue still checks the order."""
        last = self._last_prices.get(symbol)
        if last is None or time.monotonic() - last[1] > self.reference_max_age_s:
            await self.fetch_ticker(symbol)
            last = self._last_prices[symbol]
        return Decimal(str(last[0]))

    async def fetch_order_book(self, symbol: str, limit: int = 20) -> OrderBook:
        """A book snapshot of ``limit`` levels a side."""
        raw = await self._read(
            "fetch_order_book",
            request_weight("fetch_order_book", limit=limit),
            lambda: self.exchange.fetch_order_book(symbol, limit),
        )
        return parse.order_book(raw, symbol)

    # -- account -------------------------------------------------------------------------

    async def fetch_balance(self) -> dict[str, Balance]:
        """Balances by asset (zero balances included as the venue reports them)."""
        raw = await self._read(
            "fetch_balance", request_weight("fetch_balance"), self.exchange.fetch_balance
        )
        return parse.balances(raw)

    async def fetch_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Look an order up by client order id (how an UNKNOWN order is resolved).

        Raises:
            OrderNotFound: the venue does not know the id.
        """
        raw = await self._read(
            "fetch_order",
            request_weight("fetch_order"),
            lambda: self.exchange.fetch_order("", symbol, {"clientOrderId": client_order_id}),
        )
        return self._remember(parse.order(raw, client_order_id))

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still resting, on one symbol or all."""
        weight = request_weight("fetch_open_orders", all_symbols=symbol is None)
        rows = await self._read(
            "fetch_open_orders", weight, lambda: self.exchange.fetch_open_orders(symbol)
        )
        return [self._remember(parse.order(r)) for r in rows]

    async def fetch_my_trades(
        self,
        symbol: str,
        since_ms: int | None = None,
        limit: int = 500,
        from_id: int | None = None,
    ) -> list[Fill]:
        """The account's own fills, oldest first, each under its order's client id
        (``from_id`` goes as ``fromId``, without a start time: Binance refuses the pair)."""
        params = {} if from_id is None else {"fromId": from_id}
        since = since_ms if from_id is None else None
        rows = await self._read(
            "fetch_my_trades",
            request_weight("fetch_my_trades"),
            lambda: self.exchange.fetch_my_trades(symbol, since, limit, params),
        )
        if any(str(r.get("order")) not in self._client_ids for r in rows):
            orders = await self._read(
                "fetch_orders",
                request_weight("fetch_orders"),
                lambda: self.exchange.fetch_orders(symbol, since_ms),
            )
            for raw in orders:
                self._remember(parse.order(raw))
        fills = []
        for r in rows:
            cid = self._client_ids.get(str(r.get("order")), ClientOrderId(""))
            fills.append(parse.fill(r, cid, symbol, OrderSide(str(r["side"]))))
        return sorted(fills, key=lambda f: f.ts_ms)

    def _remember(self, order: Order) -> Order:
        if order.exchange_order_id is not None and order.client_order_id:
            self._client_ids[order.exchange_order_id] = order.client_order_id
        return order

    async def withdrawal_permission(self) -> bool | None:
        """Whether the API key may withdraw funds; None when the exchange does not say.

        Binance answers on ``/sapi/v1/account/apiRestrictions``; the sandbox and the spot
        testnet do not serve it.
        """
        try:
            raw = await self._call(
                "api_restrictions",
                request_weight("api_restrictions"),
                self.exchange.sapi_get_account_apirestrictions,
            )
        except ExchangeError as error:
            if isinstance(error, RateLimited | AuthenticationError):
                raise
            return None
        value = raw.get("enableWithdrawals") if isinstance(raw, dict) else None
        return None if value is None else bool(value)

    # -- orders --------------------------------------------------------------------------

    async def create_order(self, command: PlaceOrder) -> Order:
        """Send an order under its client order id and return it as the venue reports it.

        A request that failed ambiguously (timeout, 5xx, dropped connection) may have
        landed, so it is looked up by client order id before anything is resent, and a resend
        reuses that id, so the venue refuses a second copy ("Duplicate order sent.") rather
        than filling it. If the look-up cannot be made either, the order is returned with
        status UNKNOWN; resolve it later with ``fetch_order``.

        Raises:
            InvalidOrder: below minimum amount/notional, bad precision or type (before sending).
            InsufficientFunds: the venue lacks the free balance.
            RateLimited / ExchangeUnavailable: no attempt could be made at all.
        """
        market = await self.market(command.symbol)
        if command.take_profit_id is not None:
            return await self._place(command, await self._oco_sender(command, market))
        request = await self._request(command, market)
        send = lambda: self.exchange.create_order(  # noqa: E731 - reused across attempts
            request.symbol,
            request.venue_type,
            request.side,
            float(request.amount),
            None if request.price is None else float(request.price),
            dict(request.params),
        )
        return await self._place(command, send)

    async def replace_order(
        self, old: ClientOrderId, command: PlaceOrder
    ) -> tuple[Order | None, Order]:
        """Cancel ``old`` and place ``command`` in its stead in one request (Binance's
        cancel-replace): an exit sent as it cancels its stop, one trip to the venue, not two.

        The cancel is held to an order with nothing filled (``ONLY_NEW``) and the new order is
        tried only once the cancel succeeded (``STOP_ON_FAILURE``), so a stop that sold any
        part first is left alone and nothing is placed: what the new order was sized on still
        holds when it is placed. Retries and look-ups are those of ``create_order``.

        Returns:
            ``old`` as canceled (None when the answer was lost and the new order was found by
            look-up: look ``old`` up) and the new order as the venue reports it.

        Raises:
            ReplaceRefused: the venue refused it (the new order is not placed; ``old`` may
                or may not be canceled), or the market's exchangeInfo does not allow it
                (``cancelReplaceAllowed``; nothing sent).
            InvalidOrder / RateLimited / ExchangeUnavailable: as ``create_order``.
        """
        if command.take_profit_id is not None:
            raise InvalidOrder(f"order {command.client_order_id}: a cancel-replace places "
                               "one order, not an OCO list")  # fmt: skip
        market = await self.market(command.symbol)  # loads the markets' rules when first asked
        if command.symbol not in self._replace_allowed:
            raise ReplaceRefused(f"{command.symbol} does not allow cancel-replace "
                                 "(exchangeInfo cancelReplaceAllowed)")  # fmt: skip
        request = await self._request(command, market)
        params = dict(request.params) | {
            "cancelOrigClientOrderId": old,
            "cancelRestrictions": "ONLY_NEW",
            "cancelReplaceMode": "STOP_ON_FAILURE",
        }
        ccxt_market = self.exchange.market(command.symbol)
        canceled: list[Order] = []

        async def send() -> Any:
            payload = self.exchange.edit_spot_order_request(
                "",
                request.symbol,
                request.venue_type,
                request.side,
                float(request.amount),
                None if request.price is None else float(request.price),
                params,
            )
            raw = await self.exchange.private_post_order_cancelreplace(payload)
            cancel = self.exchange.parse_order(raw["cancelResponse"], ccxt_market)
            canceled.append(self._remember(parse.order(cancel, old)))
            return self.exchange.parse_order(raw["newOrderResponse"], ccxt_market)

        placed = await self._place(command, send, "replace_order")
        return (canceled[-1] if canceled else None), placed

    async def _request(self, command: PlaceOrder, market: Market) -> OrderRequest:
        """``command`` rounded, checked and in the venue's terms; a market order's minimum
        notional valued at the last price (``_reference_price``)."""
        reference = None
        if command.type is OrderType.MARKET and market.min_notional > 0 and command.price is None:
            reference = await self._reference_price(command.symbol)
        return build_request(
            command,
            market,
            self._order_types.get(command.symbol, frozenset()),
            stop_limit_offset=self.stop_limit_offset,
            reference_price=reference,
        )

    async def _oco_sender(
        self, command: PlaceOrder, market: Market
    ) -> Callable[[], Awaitable[Any]]:
        """A sender for a stop + take-profit pair as one Binance OCO order list.

        It answers with the stop leg as a ccxt order (the take-profit leg is remembered by
        its client id), so placement, retries and look-ups treat the list like one order.
        """
        types = self._order_types.get(command.symbol, frozenset())
        params = build_oco_params(
            command,
            market,
            types,
            self.exchange.market_id(command.symbol),
            stop_limit_offset=self.stop_limit_offset,
        )
        ccxt_market = self.exchange.market(command.symbol)

        async def send() -> Any:
            raw = await self.exchange.private_post_orderlist_oco(params)
            legs = [self.exchange.parse_order(r, ccxt_market) for r in raw["orderReports"]]
            for leg in legs:
                self._remember(parse.order(leg))
            return next(x for x in legs if x.get("clientOrderId") == command.client_order_id)

        return send

    async def _place(
        self,
        command: PlaceOrder,
        send: Callable[[], Awaitable[Any]],
        endpoint: str = "create_order",
    ) -> Order:
        attempt = 1
        while True:
            try:
                raw = await self._call(endpoint, request_weight(endpoint), send)
                return self._remember(parse.order(raw, command.client_order_id))
            except DuplicateClientOrderId:
                self.metrics.count("duplicate_refused")
                return await self.fetch_order(command.client_order_id, command.symbol)
            except RateLimited as error:
                # refused before processing: resending under the same id is safe
                last: ExchangeUnavailable = error
            except ExchangeUnavailable as error:
                self.metrics.count("order_unknown")
                found = await self._resolve(command, error)
                if found is not None:
                    return found
                last = error
            if gives_up(last, attempt, self.retry):
                raise last
            self.metrics.count("retry")
            await asyncio.sleep(backoff_for(last, self.retry.delay_s(attempt, self._rng)))
            attempt += 1

    async def _resolve(self, command: PlaceOrder, error: ExchangeUnavailable) -> Order | None:
        # Did the ambiguous request land? None means "it did not": resending is safe.
        await asyncio.sleep(self.lookup_delay_s)
        try:
            order = await self.fetch_order(command.client_order_id, command.symbol)
        except OrderNotFound:
            return None
        except ExchangeUnavailable as lookup_error:
            self.metrics.count("order_unresolved")
            return _unknown_order(command, f"{error}; look-up failed too: {lookup_error}")
        self.metrics.count("order_resolved")
        return order

    async def cancel_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Cancel a resting order by client order id and return it as canceled.

        A retried cancel whose first attempt landed gets "unknown order" from the venue; the
        order is then looked up, and returned if it is indeed canceled.

        Raises:
            OrderNotFound: no such order, or it is no longer open (filled, canceled earlier).
        """
        attempts = 0

        async def cancel() -> Any:
            nonlocal attempts
            attempts += 1
            return await self._call(
                "cancel_order",
                request_weight("cancel_order"),
                lambda: self.exchange.cancel_order("", symbol, {"clientOrderId": client_order_id}),
            )

        try:
            raw = await call_with_retry(
                cancel, self.retry, on_retry=lambda _a, _e: self.metrics.count("retry")
            )
        except OrderNotFound:
            if attempts == 1:
                raise
            order = await self.fetch_order(client_order_id, symbol)
            if order.status is not OrderStatus.CANCELED:
                raise
            return order
        return self._remember(parse.order(raw, client_order_id))

    # -- streams and lifecycle -----------------------------------------------------------

    async def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        """Stream candles as they update and close; missed bars are re-fetched after a drop.

        Each candle's close is the last price read, as a fetched window's newest is: a bot
        following its candles here values its market orders at the streamed price instead of
        asking a ticker first (the catch-up after a drop passes older closes on the way to
        the newest; only the local minimum-notional check reads it)."""
        async for candle in self.streams.candles(symbol, timeframe):
            self._last_prices[symbol] = (candle.close, time.monotonic())
            yield candle

    def watch_ticker(self, symbol: str) -> AsyncIterator[Ticker]:
        """Stream tickers (REST polling while the websocket is down)."""
        return self.streams.tickers(symbol)

    def watch_order_book(self, symbol: str, limit: int = 20) -> AsyncIterator[OrderBook]:
        """Stream book snapshots."""
        return self.streams.order_books(symbol, limit)

    def watch_trades(self, symbol: str) -> AsyncIterator[MarketTrade]:
        """Stream public trades as last-price ticks."""
        return self.streams.trades(symbol)

    def watch_orders(self, symbol: str | None = None) -> AsyncIterator[Order]:
        """Stream the account's own order updates."""
        return self.streams.orders(symbol)

    async def close(self) -> None:
        """Close the REST session and every websocket."""
        await self.streams.close()
        await self.exchange.close()
        if self.pro is not None:
            await self.pro.close()


def _unknown_order(command: PlaceOrder, reason: str) -> Order:
    return Order(
        client_order_id=command.client_order_id,
        symbol=command.symbol,
        side=command.side,
        type=command.type,
        qty=command.qty,
        price=command.price,
        stop_price=command.stop_price,
        time_in_force=command.time_in_force,
        status=OrderStatus.UNKNOWN,
        reason=f"request failed ambiguously; resolve with fetch_order: {reason}",
    )
