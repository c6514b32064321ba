"""SimulatedExchange: fills orders from candles, with fees, slippage, precision and limits.

It holds the same rules a real venue does (amounts rounded to the lot step, minimum amount
and notional refused, balances locked by resting orders, duplicate client order ids refused)
so that a backtest meets the same refusals live trading would.

A bar is processed in two phases, which is what keeps backtest and paper trading alike:

1. ``open_bar``: market orders sent after the previous bar closed fill at this bar's open
   (± slippage), as they would a moment after the close on a real venue.
2. ``trade_bar``: resting orders (limits, stops, take-profits) are matched against the bar's
   range. A stop placed in reaction to a fill at the open is already resting here.

Fill rules: a buy limit fills at its price once the low reaches it (at the open when the bar
opens through it); a sell stop fills at its stop price once the low reaches it, or at the open
when the bar gaps below it, minus slippage. When both legs of a stop/take-profit pair are
inside one bar, the stop fills: the conservative reading, since the bar's path is unknown.
Fees follow Binance spot: a buy pays its fee in the base asset received, a sell in the quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from tradebot.domain.events import OrderFilled, OrderUpdated
from tradebot.domain.market import Market
from tradebot.domain.market import decimal_from_float as to_decimal
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.exchange.port import Balance

ZERO = Decimal(0)
FEE_QUANTUM = Decimal("0.00000001")  # Binance reports commissions to 8 decimals
INF = float("inf")
_STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT})
_LIMIT_TYPES = frozenset(
    {OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT}
)
SimEvent = OrderFilled | OrderUpdated


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Maker and taker fee rates as fractions (0.001 = 0.1 %)."""

    maker: Decimal = Decimal("0.001")
    taker: Decimal = Decimal("0.001")


@dataclass(slots=True)
class _Bar:
    ts_ms: int
    open: float
    high: float
    low: float
    close: float


@dataclass(slots=True)
class _Book:
    """Per-symbol state: the current bar, pending market orders and resting orders."""

    market: Market
    bar: _Bar | None = None
    pending_market: list[Order] = field(default_factory=list)
    resting: list[Order] = field(default_factory=list)
    oco: dict[ClientOrderId, ClientOrderId] = field(default_factory=dict)


class SimulatedExchange:
    """An in-memory venue: the backtester drives this sync core directly; ``SimulatedConnector``
    (simulated_connector.py) puts the async ExchangeConnector port in front of it."""

    def __init__(
        self,
        markets: Iterable[Market],
        balances: Mapping[str, Decimal],
        fees: FeeSchedule | None = None,
        slippage_bps: Decimal = ZERO,
    ) -> None:
        self._books = {m.symbol: _Book(m) for m in markets}
        self._free: dict[str, Decimal] = dict(balances)
        self._locked: dict[str, Decimal] = {}
        self.fees = fees or FeeSchedule()
        self._slip = slippage_bps / Decimal(10_000)
        self._orders: dict[ClientOrderId, Order] = {}
        self._fills: list[Fill] = []
        self._trade_seq = 0
        self.now_ms = 0

    # ----------------------------------------------------------------- account queries
    @property
    def markets(self) -> dict[str, Market]:
        """Markets by symbol."""
        return {s: b.market for s, b in self._books.items()}

    def balances(self) -> dict[str, Balance]:
        """Free and locked amount per asset."""
        assets = set(self._free) | set(self._locked)
        return {a: Balance(a, self._free.get(a, ZERO), self._locked.get(a, ZERO)) for a in assets}

    def order(self, client_order_id: ClientOrderId) -> Order:
        """An order by client id.

        Raises:
            OrderNotFound: no order has that id.
        """
        try:
            return self._orders[client_order_id]
        except KeyError:
            raise OrderNotFound(f"order {client_order_id} does not exist") from None

    def known_order(self, client_order_id: ClientOrderId) -> Order | None:
        """The order with that id, or None when none was submitted."""
        return self._orders.get(client_order_id)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still working."""
        return [o for o in self._orders.values() if o.is_open and symbol in (None, o.symbol)]

    def fills(self, symbol: str | None = None) -> list[Fill]:
        """Every fill so far."""
        return [f for f in self._fills if symbol in (None, f.symbol)]

    def last_price(self, symbol: str) -> float:
        """Close of the latest bar seen (0 before any)."""
        bar = self._books[symbol].bar
        return bar.close if bar else 0.0

    # ----------------------------------------------------------------- order entry
    def submit(self, cmd: PlaceOrder) -> Order:
        """Accept an order (with its take-profit leg, for an OCO pair), or refuse it.

        Raises:
            InvalidOrder: unknown symbol, the client id of an open order, bad precision or
                below limits.
            InsufficientFunds: the free balance does not cover it.
        """
        book = self._book(cmd.symbol)
        leg = cmd.take_profit_leg()
        for cid in (cmd.client_order_id, leg.client_order_id if leg else None):
            known = self._orders.get(cid) if cid is not None else None
            if known is not None and known.is_open:  # unique among open orders, as on Binance
                raise InvalidOrder(f"Duplicate order sent. (client order id {cid})")
        if leg is not None and leg.price is not None:  # the list is refused whole
            book.market.check_order(book.market.round_qty(leg.qty), leg.price)
        market = book.market
        qty = market.round_qty(cmd.qty)
        price = None if cmd.price is None else market.round_price(cmd.price)
        stop_price = None if cmd.stop_price is None else market.round_price(cmd.stop_price)
        ref_price = self._reference_price(price, stop_price, cmd.symbol, book)
        market.check_order(qty, ref_price)
        order = Order(
            client_order_id=cmd.client_order_id,
            symbol=cmd.symbol,
            side=cmd.side,
            type=cmd.type,
            qty=qty,
            price=price,
            stop_price=stop_price,
            time_in_force=cmd.time_in_force,
            created_ts_ms=self.now_ms,
            updated_ts_ms=self.now_ms,
            reason=cmd.reason,
        )
        self._reserve(order, ref_price, market, shared_with=cmd.oco_with)
        order.transition(OrderStatus.SUBMITTING, self.now_ms)
        order.transition(OrderStatus.OPEN, self.now_ms)
        self._orders[order.client_order_id] = order
        if order.type is OrderType.MARKET:
            book.pending_market.append(order)
        else:
            book.resting.append(order)
            if cmd.oco_with is not None:
                book.oco[order.client_order_id] = cmd.oco_with
                book.oco[cmd.oco_with] = order.client_order_id
        if leg is not None:
            self.submit(leg)
        return order

    def cancel(self, client_order_id: ClientOrderId) -> Order:
        """Cancel a working order and release what it locked.

        Raises:
            OrderNotFound: unknown id, or the order is no longer working.
        """
        order = self.order(client_order_id)
        if not order.is_open:
            raise OrderNotFound(f"order {client_order_id} is {order.status}, not open")
        book = self._book(order.symbol)
        self._remove(book, order)
        order.transition(OrderStatus.CANCELED, self.now_ms)
        sibling = book.oco.pop(client_order_id, None)
        if sibling is not None:
            book.oco.pop(sibling, None)
            sib = self._orders[sibling]
            if sib.is_open:
                self._remove(book, sib)
                sib.transition(OrderStatus.CANCELED, self.now_ms)
        return order

    # ----------------------------------------------------------------- bar processing
    def open_bar(
        self, symbol: str, ts_ms: int, open_: float, high: float, low: float, close: float
    ) -> list[SimEvent]:
        """Phase 1 of a bar: fill market orders at the open."""
        self.now_ms = ts_ms
        book = self._books[symbol]
        book.bar = _Bar(ts_ms, open_, high, low, close)
        if not book.pending_market:
            return []
        events: list[SimEvent] = []
        pending, book.pending_market = book.pending_market, []
        price = to_decimal(open_)
        for order in pending:
            events.extend(self._fill_market(book, order, price))
        return events

    def trade_bar(self, symbol: str) -> list[SimEvent]:
        """Phase 2 of a bar: match resting orders against the bar's range."""
        book = self._books[symbol]
        bar = book.bar
        if bar is None or not book.resting:
            return []
        events: list[SimEvent] = []
        # Stops first: when a stop and its take-profit are both inside the bar, the stop wins.
        ordered = sorted(book.resting, key=lambda o: o.type not in _STOP_TYPES)
        for order in ordered:
            if order.is_open and order in book.resting:
                events.extend(self._match_resting(book, order, bar))
        return events

    def trigger_levels(self, symbol: str) -> tuple[float, float, bool]:
        """``(low_level, high_level, market_pending)`` for skipping quiet bars.

        A later bar can fill a resting order only if its low is at or below ``low_level`` or
        its high at or above ``high_level``; pending market orders fill at the next open.
        """
        book = self._books[symbol]
        low_level, high_level = -INF, INF
        for o in book.resting:
            is_stop = o.type in _STOP_TYPES
            level = float((o.stop_price if is_stop else o.price) or ZERO)
            if (o.side is OrderSide.BUY) != is_stop:
                low_level = max(low_level, level)
            else:
                high_level = min(high_level, level)
        return low_level, high_level, bool(book.pending_market)

    # ----------------------------------------------------------------- internals
    def _book(self, symbol: str) -> _Book:
        try:
            return self._books[symbol]
        except KeyError:
            known = ", ".join(sorted(self._books))
            raise InvalidOrder(f"unknown symbol {symbol!r}; this exchange trades {known}") from None

    def _reference_price(
        self, price: Decimal | None, stop_price: Decimal | None, symbol: str, book: _Book
    ) -> Decimal:
        if price is not None:
            return price
        if stop_price is not None:
            return stop_price
        if book.bar is None:
            raise InvalidOrder(f"{symbol}: no price yet; a market order needs a first bar")
        return to_decimal(book.bar.close)

    def _reserve(
        self, order: Order, ref_price: Decimal, market: Market, shared_with: ClientOrderId | None
    ) -> None:
        if shared_with is not None:
            other = self._orders.get(shared_with)
            if other is None or not other.is_open or other.remaining_qty < order.qty:
                raise InvalidOrder(f"OCO partner {shared_with} is not working for {order.qty}")
            return  # the partner already locked the amount both legs may sell
        if order.side is OrderSide.BUY:
            asset, need = market.quote, order.qty * ref_price
        else:
            asset, need = market.base, order.qty
        free = self._free.get(asset, ZERO)
        if need > free:
            raise InsufficientFunds(
                f"Account has insufficient balance for requested action: {order.side} "
                f"{order.qty} {order.symbol} needs {need:.8f} {asset}, {free:.8f} free"
            )
        if order.type is not OrderType.MARKET or order.side is OrderSide.SELL:
            self._move(asset, need, to_locked=True)

    def _move(self, asset: str, amount: Decimal, to_locked: bool) -> None:
        sign = 1 if to_locked else -1
        self._free[asset] = self._free.get(asset, ZERO) - sign * amount
        self._locked[asset] = self._locked.get(asset, ZERO) + sign * amount

    def _release(self, order: Order) -> None:
        market = self._books[order.symbol].market
        if order.side is OrderSide.SELL:
            self._move(market.base, order.remaining_qty, to_locked=False)
        elif order.type is not OrderType.MARKET:
            self._move(market.quote, order.remaining_qty * _lock_price(order), False)

    def _remove(self, book: _Book, order: Order) -> None:
        if order in book.resting:
            book.resting.remove(order)
        if order in book.pending_market:
            book.pending_market.remove(order)
        partner = book.oco.get(order.client_order_id)
        shares_lock = partner is not None and self._orders[partner].is_open
        if not shares_lock:
            self._release(order)

    def _fill_market(self, book: _Book, order: Order, open_price: Decimal) -> list[SimEvent]:
        slip = 1 + self._slip if order.side is OrderSide.BUY else 1 - self._slip
        price = book.market.round_price(open_price * slip)
        if order.side is OrderSide.BUY:
            need = order.qty * price
            if need > self._free.get(book.market.quote, ZERO):
                order.transition(OrderStatus.EXPIRED, self.now_ms)
                reason = f"insufficient {book.market.quote} at fill: needs {need:.2f}"
                return [
                    OrderUpdated(
                        order.client_order_id, order.symbol, order.status, self.now_ms, reason
                    )
                ]
        return [self._execute(book, order, price, self.fees.taker)]

    def _match_resting(self, book: _Book, order: Order, bar: _Bar) -> list[SimEvent]:
        price = self._resting_fill_price(order, bar)
        if price is None:
            return []
        is_stop = order.type in _STOP_TYPES
        fee_rate = self.fees.taker if is_stop or price == to_decimal(bar.open) else self.fees.maker
        if is_stop:
            slip = 1 - self._slip if order.side is OrderSide.SELL else 1 + self._slip
            price = book.market.round_price(price * slip)
        book.resting.remove(order)
        events: list[SimEvent] = [self._execute(book, order, price, fee_rate)]
        sibling = book.oco.pop(order.client_order_id, None)
        if sibling is not None:
            book.oco.pop(sibling, None)
            sib = self._orders[sibling]
            if sib.is_open:
                if sib in book.resting:
                    book.resting.remove(sib)
                sib.transition(OrderStatus.CANCELED, self.now_ms)
                events.append(
                    OrderUpdated(
                        sib.client_order_id,
                        sib.symbol,
                        sib.status,
                        self.now_ms,
                        "OCO partner filled",
                    )
                )
        return events

    @staticmethod
    def _resting_fill_price(order: Order, bar: _Bar) -> Decimal | None:
        buy = order.side is OrderSide.BUY
        if order.type in _STOP_TYPES:
            stop = float(order.stop_price or 0)
            if buy and bar.high >= stop:
                return to_decimal(max(stop, bar.open))
            if not buy and bar.low <= stop:
                return to_decimal(min(stop, bar.open))
            return None
        limit = float(order.price or 0)
        if buy and bar.low <= limit:
            return to_decimal(min(limit, bar.open))
        if not buy and bar.high >= limit:
            return to_decimal(max(limit, bar.open))
        return None

    def _execute(self, book: _Book, order: Order, price: Decimal, fee_rate: Decimal) -> SimEvent:
        market = book.market
        qty = order.remaining_qty
        self._trade_seq += 1
        if order.side is OrderSide.BUY:
            fee, fee_asset = (qty * fee_rate).quantize(FEE_QUANTUM), market.base
            locked_quote = qty * _lock_price(order) if order.type is not OrderType.MARKET else ZERO
            self._locked[market.quote] = self._locked.get(market.quote, ZERO) - locked_quote
            self._free[market.quote] = (
                self._free.get(market.quote, ZERO) + locked_quote - qty * price
            )
            self._free[market.base] = self._free.get(market.base, ZERO) + qty - fee
        else:
            fee, fee_asset = (qty * price * fee_rate).quantize(FEE_QUANTUM), market.quote
            self._locked[market.base] = self._locked.get(market.base, ZERO) - qty
            self._free[market.quote] = self._free.get(market.quote, ZERO) + qty * price - fee
        fill = Fill(
            order.client_order_id,
            order.symbol,
            order.side,
            qty,
            price,
            fee,
            fee_asset,
            self.now_ms,
            trade_id=str(self._trade_seq),
            is_maker=fee_rate == self.fees.maker and order.type is not OrderType.MARKET,
        )
        order.apply_fill(fill)
        self._fills.append(fill)
        return OrderFilled(fill)


def _lock_price(order: Order) -> Decimal:
    """The (rounded) price a resting buy locked quote at: its limit, else its stop price."""
    if order.price is not None:
        return order.price
    return order.stop_price or ZERO
