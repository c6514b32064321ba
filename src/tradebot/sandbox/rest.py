"""The REST endpoints under /api/v3 that ccxt's binance class uses, with their weights."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tradebot.sandbox import marketdata, oco, replace
from tradebot.sandbox.errors import ApiError, bad_param
from tradebot.sandbox.markets import fmt
from tradebot.sandbox.rules import OrderRequest, client_id
from tradebot.sandbox.venue import Venue

Params = dict[str, str]
Json = object


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: its handler, its request weight and whether it must be signed."""

    handler: Callable[[Params], Json]
    weight: Callable[[Params], int]
    signed: bool = False
    mutates: bool = False


def _fixed(weight: int) -> Callable[[Params], int]:
    return lambda _params: weight


def _per_symbol(one: int, every: int) -> Callable[[Params], int]:
    return lambda params: one if "symbol" in params else every


def _depth_weight(params: Params) -> int:
    raw = params.get("limit", "")
    limit = int(raw) if raw.isascii() and raw.isdigit() else 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def get_decimal(params: Params, name: str) -> Decimal | None:
    """An optional decimal parameter.

    Raises:
        ApiError: -1100 when it is not a number.
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise bad_param(name, f"{raw!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise bad_param(name, f"{raw!r} must be a positive number")
    return value


def get_int(params: Params, name: str, default: int | None = None) -> int | None:
    """An optional integer parameter.

    Raises:
        ApiError: -1100 when it is not an integer.
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit():
        raise bad_param(name, f"{raw!r} is not an integer")
    return int(raw)


def get_limit(params: Params, default: int, maximum: int) -> int:
    """``limit`` as Binance spot reads it: above ``maximum`` it is clamped, not refused.

    Raises:
        ApiError: -1100 when it is not 1-20 ASCII digits (a negative number), -1102 when 0.
    """
    raw = params.get("limit")
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):
        raise bad_param("limit", "legal range is '^[0-9]{1,20}$'")
    if int(raw) == 0:
        raise bad_param("limit")
    return min(int(raw), maximum)


class RestApi:
    """Handlers over one venue; the server adds auth, weights, faults and JSON."""

    def __init__(self, venue: Venue, on_depth_snapshot: Callable[[str], None]) -> None:
        self.venue = venue
        self._on_depth_snapshot = on_depth_snapshot
        self.routes: dict[tuple[str, str], Route] = {
            ("GET", "ping"): Route(lambda _p: {}, _fixed(1)),
            ("GET", "time"): Route(lambda _p: {}, _fixed(1)),
            ("GET", "exchangeInfo"): Route(self.exchange_info, _fixed(20)),
            ("GET", "ticker/24hr"): Route(self.ticker_24hr, _per_symbol(2, 80)),
            ("GET", "ticker/bookTicker"): Route(self.book_ticker, _per_symbol(2, 4)),
            ("GET", "depth"): Route(self.depth, _depth_weight),
            ("GET", "klines"): Route(self.klines, _fixed(2)),
            ("GET", "aggTrades"): Route(self.agg_trades, _fixed(2)),
            ("GET", "account"): Route(self.account, _fixed(20), signed=True),
            ("POST", "order"): Route(self.place, _fixed(1), signed=True, mutates=True),
            ("POST", "orderList/oco"): Route(self.place_oco, _fixed(1), signed=True, mutates=True),
            ("GET", "order"): Route(self.query, _fixed(4), signed=True),
            ("DELETE", "order"): Route(self.cancel, _fixed(1), signed=True, mutates=True),
            ("POST", "order/cancelReplace"): Route(
                self.cancel_replace, _fixed(1), signed=True, mutates=True
            ),
            ("GET", "openOrders"): Route(self.open_orders, _per_symbol(6, 80), signed=True),
            ("DELETE", "openOrders"): Route(self.cancel_all, _fixed(1), signed=True, mutates=True),
            ("GET", "allOrders"): Route(self.all_orders, _fixed(20), signed=True),
            ("GET", "myTrades"): Route(self.my_trades, _fixed(20), signed=True),
        }

    # ---- helpers -------------------------------------------------------------------------

    def _vid(self, params: Params, required: bool = True) -> str:
        vid = params.get("symbol", "")
        if not vid:
            if required:
                raise bad_param("symbol")
            return ""
        if vid not in self.venue.specs:
            raise ApiError(-1121, "Invalid symbol.")
        return vid

    def _symbols(self, params: Params) -> list[str]:
        if "symbol" in params:
            return [self._vid(params)]
        if "symbols" in params:
            try:
                wanted = json.loads(params["symbols"])
            except ValueError:
                raise bad_param("symbols", "it must be a JSON array") from None
            for vid in wanted:
                self._vid({"symbol": str(vid)})
            return [str(v) for v in wanted]
        return list(self.venue.specs)

    # ---- public --------------------------------------------------------------------------

    def exchange_info(self, params: Params) -> Json:
        """Markets with PRICE_FILTER, LOT_SIZE, NOTIONAL and orderTypes."""
        return {
            "timezone": "UTC",
            "serverTime": self.venue.now_ms,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1},
            ],
            "exchangeFilters": [],
            "symbols": [self.venue.specs[v].exchange_info() for v in self._symbols(params)],
        }

    def _trading(self, params: Params) -> list[str]:
        """The symbols asked for that trade now; one asked by name that does not yet (its
        data starts later) is refused as Binance refuses a market in a break."""
        vids = self._symbols(params)
        if "symbol" in params and not self.venue.is_trading(vids[0]):
            raise ApiError(-1013, "Market is closed.")
        return [v for v in vids if self.venue.is_trading(v)]

    def ticker_24hr(self, params: Params) -> Json:
        """One ticker for ``symbol``, else a list."""
        rows = [marketdata.ticker_24hr(self.venue, v) for v in self._trading(params)]
        return rows[0] if "symbol" in params else rows

    def book_ticker(self, params: Params) -> Json:
        """Best bid/ask for ``symbol``, else a list."""
        rows = [marketdata.book_ticker(self.venue, v) for v in self._trading(params)]
        return rows[0] if "symbol" in params else rows

    def depth(self, params: Params) -> Json:
        """The synthetic book; its lastUpdateId continues in the websocket diffs."""
        vid = self._trading(params)[0]
        limit = get_limit(params, 100, 5000)
        snapshot = marketdata.depth(self.venue, vid, limit)
        self._on_depth_snapshot(vid)
        return snapshot

    def klines(self, params: Params) -> Json:
        """Bars opened by now (the last one still open), in the replayed timeframe."""
        vid = self._vid(params)
        series = self.venue.series[vid]
        if params.get("interval") != series.timeframe:
            raise ApiError(-1120, f"Invalid interval; the sandbox replays {series.timeframe} bars.")
        limit = get_limit(params, 500, 1000)
        if not self.venue.is_trading(vid):
            return []  # its data has not started: no bar has opened
        start, end = get_int(params, "startTime"), get_int(params, "endTime")
        bars = [
            b
            for b in marketdata.bars_until_now(self.venue, vid)
            if (start is None or b.ts_ms >= start) and (end is None or b.ts_ms <= end)
        ]
        bars = bars[:limit] if start is not None else bars[-limit:]
        return [marketdata.kline_row(b, series.tf_ms) for b in bars]

    def agg_trades(self, params: Params) -> Json:
        """Recent public trades (the replay's prints and our own fills)."""
        vid = self._vid(params)
        limit = get_limit(params, 500, 1000)
        start, end = get_int(params, "startTime"), get_int(params, "endTime")
        return marketdata.agg_trades(self.venue, vid, limit, start, end)

    # ---- account -------------------------------------------------------------------------

    def account(self, _params: Params) -> Json:
        """Balances and commission rates of the one account."""
        acct, engine = self.venue.account, self.venue.engine
        zero = fmt(Decimal(0))
        return {
            "makerCommission": int(engine.maker_fee_rate * 10000),
            "takerCommission": int(engine.taker_fee_rate * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": fmt(engine.maker_fee_rate),
                "taker": fmt(engine.taker_fee_rate),
                "buyer": zero,
                "seller": zero,
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": acct.update_ms,
            "accountType": "SPOT",
            "balances": [acct.row(a) for a in acct.assets()],
            "permissions": ["SPOT"],
            "uid": 1,
        }

    def place(self, params: Params) -> Json:
        """New order; the response type follows ``newOrderRespType`` (ACK, RESULT, FULL)."""
        return self.placed(params, self.order_request(params))

    def order_request(self, params: Params) -> OrderRequest:
        """The new order a ``POST /order`` (or a cancel-replace) asks for."""
        return OrderRequest(
            symbol=self._vid(params),
            side=params.get("side", ""),
            type=params.get("type", ""),
            client_id=client_id(params, "newClientOrderId"),
            qty=get_decimal(params, "quantity"),
            quote_qty=get_decimal(params, "quoteOrderQty"),
            price=get_decimal(params, "price"),
            stop_price=get_decimal(params, "stopPrice"),
            time_in_force=params.get("timeInForce") or None,
        )

    def placed(self, params: Params, req: OrderRequest) -> Json:
        """Place ``req``; answer in the form ``newOrderRespType`` asks for."""
        order, trades = self.venue.engine.place(req)
        default = "FULL" if req.type in ("MARKET", "LIMIT") else "ACK"
        kind = params.get("newOrderRespType", default)
        full = order.placed(trades)
        if kind == "ACK":
            keys = ("symbol", "orderId", "orderListId", "clientOrderId", "transactTime")
            return {k: full[k] for k in keys}
        if kind == "RESULT":
            full.pop("fills")
        return full

    def place_oco(self, params: Params) -> Json:
        """New OCO order list (take-profit LIMIT_MAKER + stop-loss sharing one lock)."""
        return oco.place_oco(self.venue, params, self._vid(params), get_decimal)

    def query(self, params: Params) -> Json:
        """One order by ``orderId`` or ``origClientOrderId``."""
        vid = self._vid(params)
        order_id = get_int(params, "orderId")
        return self.venue.engine.find(vid, order_id, params.get("origClientOrderId")).queried()

    def cancel(self, params: Params) -> Json:
        """Cancel one open order (of the status ``cancelRestrictions`` names, if sent)."""
        vid = self._vid(params)
        order_id = get_int(params, "orderId")
        cancel_id = client_id(params, "newClientOrderId")
        only = replace.restriction(params.get("cancelRestrictions"))
        order = self.venue.engine.cancel(vid, order_id, params.get("origClientOrderId"), only)
        return order.canceled(cancel_id, self.venue.now_ms)

    def cancel_replace(self, params: Params) -> Json:
        """Cancel one order and place another in one request (``replace.py``)."""
        return replace.cancel_replace(self, params, get_int(params, "cancelOrderId"))

    def open_orders(self, params: Params) -> Json:
        """Open orders of ``symbol`` (or of every symbol)."""
        vid = self._vid(params, required=False) or None
        return [o.queried() for o in self.venue.engine.open_orders(vid)]

    def cancel_all(self, params: Params) -> Json:
        """Cancel every open order of a symbol; -2011 when there is none, as on Binance."""
        vid = self._vid(params)
        engine = self.venue.engine
        orders = engine.open_orders(vid)
        if not orders:
            raise ApiError(-2011, "Unknown order sent.")
        cancel_id = f"sandbox-{secrets.token_hex(8)}"
        return [
            engine.cancel(vid, o.order_id, None).canceled(cancel_id, self.venue.now_ms)
            for o in orders
        ]

    def all_orders(self, params: Params) -> Json:
        """Every order of a symbol, oldest first, from ``orderId`` or a time range."""
        vid = self._vid(params)
        from_id = get_int(params, "orderId", 0) or 0
        start, end = get_int(params, "startTime"), get_int(params, "endTime")
        limit = get_limit(params, 500, 1000)
        rows = [
            o.queried()
            for o in self.venue.engine.orders.values()
            if o.symbol == vid
            and o.order_id >= from_id
            and (start is None or o.time_ms >= start)
            and (end is None or o.time_ms <= end)
        ]
        return rows[:limit]

    def my_trades(self, params: Params) -> Json:
        """The account's trades on a symbol."""
        vid = self._vid(params)
        order_id = get_int(params, "orderId")
        from_id = get_int(params, "fromId")
        start, end = get_int(params, "startTime"), get_int(params, "endTime")
        limit = get_limit(params, 500, 1000)
        rows = [
            t.my_trade()
            for t in self.venue.engine.trades
            if t.symbol == vid
            and (from_id is None or t.id >= from_id)
            and order_id in (None, t.order_id)
            and (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
        ]
        return rows[:limit] if start is not None or from_id is not None else rows[-limit:]
