"""SimulatedExchange: fills orders from candles, with fees, slippage, precision and limits.

It holds the same rules a real venue does (amounts rounded to the lot step, minimum amount
and notional refused, balances locked by resting orders, duplicate client order ids refused)
so that a backtest meets the same refusals live trading would.

A bar is processed in two phases, which is what keeps backtest and paper trading alike:

1. ``open_bar``: market orders sent after the previous bar closed fill at this bar's open
   (± slippage), as they would a moment after the close on a real venue.
2. ``trade_bar``: resting orders (limits, stops, take-profits) are matched along the bar's
   path. A stop placed in reaction to a fill at the open is already resting here.

Where and how an order fills on a bar (price, maker or taker, time) is the one rule of
``tradebot.domain.fills``, which the sandbox follows too; this venue adds its slippage to
triggered stops and market orders, and fills every order in full (it has no book depth).
When one leg of an OCO pair acts, the other is reported EXPIRED in the same bar, as Binance
reports it. Fees follow Binance spot: a buy pays its fee in the base asset received, a sell
in the quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, Protocol

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from tradebot.domain.events import OrderFilled, OrderUpdated
from tradebot.domain.fills import Act, BarAction, BarWalk, Resting, bar_path, market_fill
from tradebot.domain.market import Market
from tradebot.domain.market import decimal_from_float as to_decimal
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.exchange.port import Balance


class FillLog(Protocol):
    """Where the venue keeps its fills: a list, or a backtest's packed sequence."""

    def append(self, fill: Fill, /) -> None:
        """Keep one more fill, the latest."""
        ...

    def __iter__(self) -> Iterator[Fill]: ...

    def __len__(self) -> int: ...


ZERO: Final = Decimal(0)
FEE_QUANTUM: Final = Decimal("0.00000001")  # Binance reports commissions to 8 decimals
INF: Final = float("inf")
_TRIGGERED: Final = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
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
    """Per-symbol state: the current bar, pending market orders and resting orders.

    ``resting`` holds what the fill rule sees of each resting order, in arrival order.
    """

    market: Market
    bar: _Bar | None = None
    pending_market: list[Order] = field(default_factory=list)
    resting: dict[ClientOrderId, Resting] = field(default_factory=dict)
    levels: tuple[float, float] | None = None  # ``_levels`` of ``resting``; None: recompute
    mark: float | None = None  # the price an order placed now is judged against
    # (kept as the bar's float: made exact (``to_decimal``) only when an order is judged)
    arriving: dict[ClientOrderId, Resting] | None = None  # placed while the bar is walked
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
        self._fills: FillLog = []
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

    def keep_fills_in(self, log: FillLog) -> None:
        """Keep the fills in ``log`` from now on, those so far first: a backtest's compact
        one (``tradebot.backtest.packed``) instead of a list of objects."""
        for fill in self._fills:
            log.append(fill)
        self._fills = log

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
        if book.mark is not None and (cmd.type in _JUDGED or leg is not None):
            mark = to_decimal(book.mark)
            _refuse_if_passed(cmd.side, cmd.type, price, stop_price, mark)
            if leg is not None:  # the list is refused whole
                _refuse_if_passed(leg.side, leg.type, leg.price, None, mark)
        # Positional, in ``Order``'s field order (keywords made it twice as slow to make):
        # id, symbol, side, type, qty, price, stop price, time in force, status, exchange
        # id, filled, average price, created, updated, reason. Accepted: the venue's side
        # of NEW → SUBMITTING → OPEN.
        order = Order(
            cmd.client_order_id, cmd.symbol, cmd.side, cmd.type, qty, price, stop_price,
            cmd.time_in_force, OrderStatus.OPEN, None, ZERO, None, self.now_ms, self.now_ms,
            cmd.reason,
        )  # fmt: skip
        self._reserve(order, ref_price, market, shared_with=cmd.oco_with)
        self._orders[order.client_order_id] = order
        if order.type is OrderType.MARKET:
            book.pending_market.append(order)
        else:
            resting = Resting(order.client_order_id, order.side, order.type, price, stop_price)
            # An order placed while the bar is walked (the protection of an entry filled in
            # it) reaches the venue once the bar is over, as a live bot's does: it rests from
            # the next bar on.
            target = book.arriving if book.arriving is not None else book.resting
            target[order.client_order_id] = resting
            book.levels = None
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

    def forget_closed(self, before_ms: int, *, fills: bool = False) -> None:
        """Drop the orders that closed before ``before_ms`` (and, with ``fills``, the fills
        made before it; otherwise they stay in ``fills``): a long backtest would otherwise
        keep every order it ever sent. Asked about later, such an order is unknown
        (``OrderNotFound``), as on a venue that keeps history for a limited time."""
        self._orders = {
            cid: o for cid, o in self._orders.items() if o.is_open or o.updated_ts_ms >= before_ms
        }
        if fills:
            self._fills = [f for f in self._fills if f.ts_ms >= before_ms]

    # ----------------------------------------------------------------- bar processing
    def open_bar(
        self, symbol: str, ts_ms: int, open_: float, high: float, low: float, close: float
    ) -> list[SimEvent]:
        """Phase 1 of a bar: fill market orders at the open."""
        self.now_ms = ts_ms
        book = self._books[symbol]
        bar = book.bar
        if bar is None:
            book.bar = _Bar(ts_ms, open_, high, low, close)
        else:  # the book's own, read nowhere else: set in place (one bar a visit)
            bar.ts_ms, bar.open, bar.high, bar.low, bar.close = ts_ms, open_, high, low, close
        book.mark = open_
        if not book.pending_market:
            return []
        events: list[SimEvent] = []
        pending, book.pending_market = book.pending_market, []
        price = to_decimal(open_)
        for order in pending:
            fill = market_fill(order.client_order_id, ts_ms, price)
            events.extend(self._fill_market(book, order, fill))
        return events

    def trade_bar(self, symbol: str) -> list[SimEvent]:
        """Phase 2 of a bar: walk the bar's path and act on the resting orders it reaches."""
        book = self._books[symbol]
        bar = book.bar
        if bar is None:
            return []
        book.mark = bar.close  # what is placed from now on is judged at the bar's close
        if not book.resting:
            return []
        low_level, high_level = book.levels or _levels(book)
        if low_level < bar.low <= bar.high < high_level and low_level < bar.open < high_level:
            return []  # the path stays between the orders: nothing can act
        events: list[SimEvent] = []
        # each price made exact by a direct call (an alias of the function would be a
        # Python-level call, compiled)
        path = bar_path(
            to_decimal(bar.open), to_decimal(bar.high), to_decimal(bar.low), to_decimal(bar.close)
        )
        walk = BarWalk(bar.ts_ms, path)
        book.arriving = {}
        try:
            while (action := walk.next(book.resting.values())) is not None:
                events.extend(self._act(book, action))
        finally:
            book.resting.update(book.arriving)
            book.arriving = None
            book.levels = None
        return events

    def trigger_levels(self, symbol: str) -> tuple[float, float, bool]:
        """``(low_level, high_level, market_pending)`` for skipping quiet bars.

        A later bar can fill a resting order only if its low is at or below ``low_level`` or
        its high at or above ``high_level``; pending market orders fill at the next open.
        """
        book = self._books[symbol]
        low_level, high_level = book.levels or _levels(book)
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
        book.resting.pop(order.client_order_id, None)
        if book.arriving is not None:
            book.arriving.pop(order.client_order_id, None)
        book.levels = None
        if order in book.pending_market:
            book.pending_market.remove(order)
        partner = book.oco.get(order.client_order_id)
        shares_lock = partner is not None and self._orders[partner].is_open
        if not shares_lock:
            self._release(order)

    def _fill_market(self, book: _Book, order: Order, action: BarAction) -> list[SimEvent]:
        slip = 1 + self._slip if order.side is OrderSide.BUY else 1 - self._slip
        price = book.market.round_price(action.price * slip)
        if order.side is OrderSide.BUY:
            need = order.qty * price
            if need > self._free.get(book.market.quote, ZERO):
                order.transition(OrderStatus.EXPIRED, action.ts_ms)
                reason = f"insufficient {book.market.quote} at fill: needs {need:.2f}"
                return [
                    OrderUpdated(
                        order.client_order_id, order.symbol, order.status, action.ts_ms, reason
                    )
                ]
        return [self._execute(book, order, price, action)]

    def _act(self, book: _Book, action: BarAction) -> list[SimEvent]:
        cid = ClientOrderId(str(action.key))
        order = self._orders[cid]
        if action.act is Act.TRIGGER:  # a stop-limit past its limit: it rests as a limit
            book.resting[cid] = replace(book.resting[cid], triggered=True)
            book.levels = None
            return self._expire_partner(book, order, action.ts_ms)
        del book.resting[cid]
        book.levels = None
        price = action.price
        if order.type in _TRIGGERED and not action.is_maker:  # a stop's market sale slips
            slip = 1 - self._slip if order.side is OrderSide.SELL else 1 + self._slip
            price = book.market.round_price(price * slip)
            if order.price is not None:  # never past a stop-limit's limit
                worst = max if order.side is OrderSide.SELL else min
                price = worst(price, order.price)
        return [
            self._execute(book, order, price, action),
            *self._expire_partner(book, order, action.ts_ms),
        ]

    def _expire_partner(self, book: _Book, order: Order, ts_ms: int) -> list[SimEvent]:
        partner = book.oco.pop(order.client_order_id, None)
        if partner is None:
            return []
        book.oco.pop(partner, None)
        other = self._orders[partner]
        if not other.is_open:
            return []
        book.resting.pop(partner, None)  # the lock is shared: the acting leg keeps it
        if book.arriving is not None:
            book.arriving.pop(partner, None)
        book.levels = None
        other.transition(OrderStatus.EXPIRED, ts_ms)
        return [OrderUpdated(partner, other.symbol, other.status, ts_ms, "OCO partner acted")]

    def _execute(self, book: _Book, order: Order, price: Decimal, action: BarAction) -> SimEvent:
        market = book.market
        fee_rate = self.fees.maker if action.is_maker else self.fees.taker
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
            action.ts_ms,
            str(self._trade_seq),  # trade id
            action.is_maker,
        )
        order.apply_fill(fill)
        self._fills.append(fill)
        return OrderFilled(fill)


def _lock_price(order: Order) -> Decimal:
    """The (rounded) price a resting buy locked quote at: its limit, else its stop price."""
    if order.price is not None:
        return order.price
    return order.stop_price or ZERO


def _levels(book: _Book) -> tuple[float, float]:
    """The highest price below and the lowest above at which a resting order acts (cached)."""
    low_level, high_level = -INF, INF
    for view in book.resting.values():
        falls, level = view.reach()
        if falls:
            low_level = max(low_level, float(level))
        else:
            high_level = min(high_level, float(level))
    book.levels = (low_level, high_level)
    return book.levels


_STOPS: Final = (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
# what ``_refuse_if_passed`` may refuse
_JUDGED: Final = frozenset({*_STOPS, OrderType.LIMIT_MAKER})


def _refuse_if_passed(
    side: OrderSide,
    kind: OrderType,
    price: Decimal | None,
    stop_price: Decimal | None,
    mark: Decimal | None,
) -> None:
    """Refuse, as Binance does, a stop the price has passed or a maker order that would take.

    ``mark`` is the price now: the bar's open while market orders fill, its close once the
    bar has been walked.

    Raises:
        InvalidOrder: "Order would trigger immediately." / "... immediately match and take."
    """
    if mark is None:
        return
    sell = side is OrderSide.SELL
    if kind in _STOPS and stop_price is not None:
        if (stop_price >= mark) if sell else (stop_price <= mark):
            raise InvalidOrder("Order would trigger immediately.")
        return
    if kind is not OrderType.LIMIT_MAKER or price is None:
        return
    if (price <= mark) if sell else (price >= mark):
        raise InvalidOrder("Order would immediately match and take.")
