"""The matching engine: places, fills and cancels orders against the synthetic books.

It is synchronous and does no I/O; what it does is reported through ``sink`` as events the
websocket hub pushes. The venue moves prices and calls ``walk`` so resting orders fill; where
and how they fill (price, maker or taker, time) is the rule of ``tradebot.domain.fills``,
which the backtest venue follows too. Takers execute against the synthetic book repriced at
the rule's price, so a thin book fills them partly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from tradebot.domain.fills import Act, BarAction, BarWalk, Leg, Resting
from tradebot.domain.orders import OrderSide, OrderType
from tradebot.sandbox.account import Account
from tradebot.sandbox.book import SyntheticBook
from tradebot.sandbox.errors import ApiError
from tradebot.sandbox.events import BalancesChanged, BookChanged, Event, OrderUpdated, TradePrinted
from tradebot.sandbox.markets import MarketSpec
from tradebot.sandbox.orders import STOP_TYPES, OrderRecord, TradeRecord, execution_report
from tradebot.sandbox.rules import (
    LIMIT_TYPES,
    OrderRequest,
    check_filters,
    check_shape,
    would_trigger,
)

_FEE_QUANTUM = Decimal("1e-8")
Fills = list[tuple[Decimal, Decimal]]


class MatchingEngine:
    """Orders, trades and balances of the sandbox's account."""

    def __init__(
        self,
        specs: dict[str, MarketSpec],
        books: dict[str, SyntheticBook],
        account: Account,
        fee_rates: tuple[Decimal, Decimal],
        sink: Callable[[Event], None],
    ) -> None:
        self.specs = specs
        self.books = books
        self.account = account
        self.maker_fee_rate, self.taker_fee_rate = fee_rates
        self.sink = sink
        self.orders: dict[int, OrderRecord] = {}
        self.client_ids: dict[str, int] = {}
        self.trades: list[TradeRecord] = []
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_list_id = 1
        self.now_ms = 0
        self.last_price: dict[str, Decimal] = {}

    def spec(self, venue_id: str) -> MarketSpec:
        """The market of a venue id.

        Raises:
            ApiError: -1121 Invalid symbol.
        """
        if venue_id not in self.specs:
            raise ApiError(-1121, "Invalid symbol.")
        return self.specs[venue_id]

    # ---- placing -------------------------------------------------------------------------

    def place(self, req: OrderRequest) -> tuple[OrderRecord, list[TradeRecord]]:
        """Validate, lock funds, match what crosses and rest the rest.

        Raises:
            ApiError: Binance's code for whatever is wrong (-1013, -2010, -1121, ...).
        """
        spec = self.spec(req.symbol)
        check_shape(req)
        if self.holds_open(req.client_id):
            raise ApiError(-2010, "Duplicate order sent.")
        price_now = self._price_now(req.symbol)
        check_filters(spec, req, price_now)
        if req.type in STOP_TYPES and would_trigger(req, price_now):
            raise ApiError(-2010, "Order would trigger immediately.")
        book = self.books[req.symbol]
        crosses = req.type in ("LIMIT", "LIMIT_MAKER") and bool(
            book.plan(req.side, None, None, req.price)
        )
        if req.type == "LIMIT_MAKER" and crosses:
            raise ApiError(-2010, "Order would immediately match and take.")
        order = self._new_order(req)
        if req.type == "MARKET":
            fills = self._plan_market(spec, order)
        else:
            self._lock_resting(spec, order)
            fills = []
        self._register(order)
        trades = self._after_placement(order, fills, crosses)
        return order, trades

    def check_rules(self, req: OrderRequest) -> None:
        """Refuse ``req`` when its shape or the market's filters do, placing nothing (a
        cancel-replace checks its new order so before it cancels, as Binance does).

        Raises:
            ApiError: as ``place`` for a malformed request or a filter failure.
        """
        check_shape(req)
        check_filters(self.spec(req.symbol), req, self._price_now(req.symbol))

    def _new_order(self, req: OrderRequest) -> OrderRecord:
        order = OrderRecord(
            order_id=self.next_order_id,
            client_id=req.client_id,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            time_in_force=req.time_in_force or "GTC",
            price=req.price or Decimal(0),
            orig_qty=req.qty or Decimal(0),
            stop_price=req.stop_price or Decimal(0),
            time_ms=self.now_ms,
            orig_quote_qty=req.quote_qty or Decimal(0),
            update_ms=self.now_ms,
            working_ms=self.now_ms,
            is_working=req.type not in STOP_TYPES,
        )
        return order

    def holds_open(self, client_id: str) -> bool:
        """True while an open order has ``client_id``: Binance refuses only those duplicates.

        ``client_ids`` maps an id to its newest order, the only one that can still be open.
        """
        newest = self.orders.get(self.client_ids.get(client_id, -1))
        return newest is not None and newest.is_open

    def _register(self, order: OrderRecord) -> None:
        self.next_order_id += 1
        self.orders[order.order_id] = order
        self.client_ids[order.client_id] = order.order_id
        self._report(order, "NEW", None)

    def _plan_market(self, spec: MarketSpec, order: OrderRecord) -> Fills:
        qty = order.orig_qty if order.orig_qty > 0 else None
        quote = order.orig_quote_qty if qty is None else None
        fills = self.books[order.symbol].plan(order.side, qty, quote, None)
        if qty is None:
            order.orig_qty = sum((q for _, q in fills), Decimal(0))
        need = (
            sum((p * q for p, q in fills), Decimal(0))
            if order.side == "BUY"
            else sum((q for _, q in fills), Decimal(0))
        )
        order.lock_asset = spec.quote if order.side == "BUY" else spec.base
        self.account.lock(order.lock_asset, need)
        order.lock_left = need
        return fills

    def _lock_resting(self, spec: MarketSpec, order: OrderRecord) -> None:
        if order.side == "SELL":
            order.lock_asset, need = spec.base, order.orig_qty
        else:
            order.lock_asset = spec.quote
            need = order.orig_qty * (order.price if order.price > 0 else order.stop_price)
        self.account.lock(order.lock_asset, need)
        order.lock_left = need

    def _after_placement(
        self, order: OrderRecord, fills: Fills, crosses: bool
    ) -> list[TradeRecord]:
        if order.type == "MARKET":
            trades = self._take(order, fills)
            self._finish(order, "EXPIRED" if order.remaining > 0 else "FILLED")
        elif crosses:
            trades = self._take_limit(order)
        else:
            self._balances(order)
            return []
        return trades

    def _take_limit(self, order: OrderRecord) -> list[TradeRecord]:
        fills = self.books[order.symbol].plan(order.side, order.remaining, None, order.price)
        filled = sum((q for _, q in fills), Decimal(0))
        if order.time_in_force == "FOK" and filled < order.remaining:
            self._finish(order, "EXPIRED")
            return []
        trades = self._take(order, fills)
        if order.remaining == 0:
            self._finish(order, "FILLED")
        elif order.time_in_force in ("IOC", "FOK"):
            self._finish(order, "EXPIRED")
        else:
            self._balances(order)
        return trades

    def _take(self, order: OrderRecord, fills: Fills) -> list[TradeRecord]:
        if not fills:
            return []
        diff = self.books[order.symbol].consume(order.side, fills)
        self.sink(BookChanged(order.symbol, diff))
        return [self._fill(order, price, qty, is_maker=False) for price, qty in fills]

    # ---- settling ------------------------------------------------------------------------

    def _fill(
        self, order: OrderRecord, price: Decimal, qty: Decimal, is_maker: bool
    ) -> TradeRecord:
        spec = self.specs[order.symbol]
        rate = self.maker_fee_rate if is_maker else self.taker_fee_rate
        if order.side == "SELL":
            # The base sold leaves the lock. A market sell locks what its plan fills, less
            # than it asked when the book is thin; a share per unit asked would keep some.
            release = qty
        else:  # a buy's lock goes per unit; the change from its price comes back below
            per_unit = order.lock_left / order.remaining if order.remaining > 0 else Decimal(0)
            release = order.lock_left if qty == order.remaining else per_unit * qty
        self.account.spend_locked(order.lock_asset, release)
        order.lock_left -= release
        cost = price * qty
        if order.side == "BUY":
            fee, fee_asset = (qty * rate).quantize(_FEE_QUANTUM), spec.base
            self.account.credit(spec.quote, release - cost)
            self.account.credit(spec.base, qty - fee)
        else:
            fee, fee_asset = (cost * rate).quantize(_FEE_QUANTUM), spec.quote
            self.account.credit(spec.quote, cost - fee)
        trade = TradeRecord(
            self.next_trade_id, order.order_id, order.symbol, price, qty, fee, fee_asset,
            self.now_ms, is_buyer=order.side == "BUY", is_maker=is_maker,
            order_list_id=order.order_list_id,
        )  # fmt: skip
        self.next_trade_id += 1
        self.trades.append(trade)
        order.trade_ids.append(trade.id)
        order.executed_qty += qty
        order.cum_quote += cost
        order.update_ms = self.now_ms
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
        buyer_is_maker = is_maker == (order.side == "BUY")
        self.sink(TradePrinted(order.symbol, trade.id, price, qty, buyer_is_maker, self.now_ms))
        self._report(order, "TRADE", trade)
        return trade

    def _finish(self, order: OrderRecord, status: str) -> None:
        if order.lock_left > 0:
            self.account.unlock(order.lock_asset, order.lock_left)
            order.lock_left = Decimal(0)
        changed = order.status != status
        order.status = status
        order.update_ms = self.now_ms
        if changed and status != "FILLED":
            self._report(order, status, None)
        self._balances(order)

    def _balances(self, order: OrderRecord) -> None:
        spec = self.specs[order.symbol]
        self.account.update_ms = self.now_ms
        self.sink(BalancesChanged((spec.base, spec.quote)))

    def _report(self, order: OrderRecord, exec_type: str, trade: TradeRecord | None) -> None:
        self.sink(OrderUpdated(execution_report(order, exec_type, trade, self.now_ms)))

    # ---- OCO order lists ------------------------------------------------------------------

    def place_oco(self, legs: tuple[OrderRequest, OrderRequest]) -> list[OrderRecord]:
        """Place two legs sharing one lock; when one acts, the other expires.

        Raises:
            ApiError: as ``place`` for either leg; nothing is placed unless both pass.
        """
        spec = self.spec(legs[0].symbol)
        for req in legs:
            self._check_resting(spec, req)
        if legs[0].client_id == legs[1].client_id:
            raise ApiError(-2010, "Duplicate order sent.")
        qty = legs[0].qty or Decimal(0)
        if legs[0].side == "SELL":
            asset, need = spec.base, qty
        else:
            asset = spec.quote
            need = qty * max(r.price or r.stop_price or Decimal(0) for r in legs)
        self.account.lock(asset, need)
        orders = []
        for req in legs:
            order = self._new_order(req)
            order.order_list_id = self.next_list_id
            order.lock_asset, order.lock_left = asset, need
            self._register(order)
            orders.append(order)
        self.next_list_id += 1
        self._balances(orders[0])
        return orders

    def _price_now(self, venue_id: str) -> Decimal:
        """The last price; a symbol without one is not trading yet (its data starts later).

        Raises:
            ApiError: -1013 Market is closed.
        """
        price = self.last_price.get(venue_id)
        if price is None:
            raise ApiError(-1013, "Market is closed.")
        return price

    def _check_resting(self, spec: MarketSpec, req: OrderRequest) -> None:
        check_shape(req)
        if self.holds_open(req.client_id):
            raise ApiError(-2010, "Duplicate order sent.")
        price_now = self._price_now(req.symbol)
        check_filters(spec, req, price_now)
        if req.type in STOP_TYPES and would_trigger(req, price_now):
            raise ApiError(-2010, "Order would trigger immediately.")
        book = self.books[req.symbol]
        if req.type == "LIMIT_MAKER" and book.plan(req.side, None, None, req.price):
            raise ApiError(-2010, "Order would immediately match and take.")

    def _expire_siblings(self, order: OrderRecord, status: str = "EXPIRED") -> None:
        if order.order_list_id < 0:
            return
        for other in self.orders.values():
            if other.order_list_id == order.order_list_id and other is not order and other.is_open:
                other.lock_left = Decimal(0)  # the lock is shared: the acting leg keeps it
                self._finish(other, status)

    # ---- queries and cancels -------------------------------------------------------------

    def find(self, venue_id: str, order_id: int | None, client_id: str | None) -> OrderRecord:
        """Look an order up by exchange id or client id.

        Raises:
            ApiError: -1102 neither id sent; -2013 no such order on that symbol.
        """
        self.spec(venue_id)
        if order_id is None and client_id is None:
            raise ApiError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        key = order_id if order_id is not None else self.client_ids.get(client_id or "", -1)
        order = self.orders.get(key)
        if order is None or order.symbol != venue_id:
            raise ApiError(-2013, "Order does not exist.")
        return order

    def cancel(
        self,
        venue_id: str,
        order_id: int | None,
        client_id: str | None,
        only: str | None = None,
    ) -> OrderRecord:
        """Cancel an open order, unlocking what it kept; ``only`` is Binance's
        ``cancelRestrictions``: the status the order must have (``NEW``, ``PARTIALLY_FILLED``).

        Raises:
            ApiError: -2011 Unknown order sent. (missing or already closed), or not canceled
                due to cancel restrictions.
        """
        try:
            order = self.find(venue_id, order_id, client_id)
        except ApiError as e:
            if e.code == -2013:
                raise ApiError(-2011, "Unknown order sent.") from None
            raise
        if not order.is_open:
            raise ApiError(-2011, "Unknown order sent.")
        if only is not None and order.status != only:
            raise ApiError(-2011, "Order was not canceled due to cancel restrictions.")
        self._expire_siblings(order, "CANCELED")
        self._finish(order, "CANCELED")
        return order

    def open_orders(self, venue_id: str | None) -> list[OrderRecord]:
        """Open orders, of one symbol or all."""
        return [o for o in self.orders.values() if o.is_open and venue_id in (None, o.symbol)]

    # ---- price moves ---------------------------------------------------------------------

    def walk(self, venue_id: str, legs: Sequence[Leg], ts_ms: int) -> None:
        """Move the price along ``legs`` of the bar opening at ``ts_ms``; act on what it reaches.

        ``tradebot.domain.fills`` says which order acts where and in which role; an acting OCO
        leg expires its partner first, as on Binance.
        """
        path = BarWalk(ts_ms, legs, start=self.last_price[venue_id])
        while (action := path.next(self._resting(venue_id))) is not None:
            order = self.orders[int(action.key)]
            self.now_ms = action.ts_ms
            self._expire_siblings(order)
            self._act(order, action)
        self.last_price[venue_id] = legs[-1].price

    def _resting(self, venue_id: str) -> list[Resting]:
        return [_resting(o) for o in self.open_orders(venue_id) if o.type != "MARKET"]

    def _act(self, order: OrderRecord, action: BarAction) -> None:
        if not order.is_working:  # a stop whose stop price traded
            order.is_working = True
            order.working_ms = self.now_ms
        if action.act is Act.TRIGGER:
            return
        if action.is_maker:
            self._fill(order, action.price, order.remaining, is_maker=True)
            self._finish(order, "FILLED")
            return
        book = self.books[order.symbol]
        self.sink(BookChanged(order.symbol, book.reprice(action.price)))
        limit = order.price if order.type in LIMIT_TYPES else None
        self._take(order, book.plan(order.side, order.remaining, None, limit))
        if order.remaining == 0:
            self._finish(order, "FILLED")
        elif limit is None:
            self._finish(order, "EXPIRED")
        else:
            self._balances(order)  # the rest stays on the book as a limit


def _resting(order: OrderRecord) -> Resting:
    """What the fill rule needs to know of an order."""
    return Resting(
        order.order_id,
        OrderSide(order.side.lower()),
        OrderType(order.type.lower()),
        order.price or None,
        order.stop_price or None,
        triggered=order.type in STOP_TYPES and order.is_working,
    )
