"""Orders, their lifecycle state machine, and fills.

An order's life::

    NEW → SUBMITTING → OPEN → PARTIALLY_FILLED → FILLED
                  │       └──────────┴──────→ CANCELED / EXPIRED
                  ├→ REJECTED
                  └→ UNKNOWN (the request timed out) → resolved by looking the order up

Every order carries a ``ClientOrderId`` derived from the decision that caused it, so a
retried or replayed submission can never become a second order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final, NewType

from tradebot.domain.errors import StateError
from tradebot.domain.records import field_values

ClientOrderId = NewType("ClientOrderId", str)
_ZERO: Final = Decimal(0)


class OrderSide(StrEnum):
    """Buy or sell, as CCXT spells them."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order types the engine uses; each exchange adapter maps them to the venue's."""

    MARKET = "market"
    LIMIT = "limit"
    LIMIT_MAKER = "limit_maker"
    STOP_LOSS = "stop_loss"  # sell (or buy) at market once the stop price trades
    STOP_LOSS_LIMIT = "stop_loss_limit"
    TAKE_PROFIT = "take_profit"
    TAKE_PROFIT_LIMIT = "take_profit_limit"


class TimeInForce(StrEnum):
    """How long a limit order may rest."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle."""

    NEW = "new"
    SUBMITTING = "submitting"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        """True once the order can change no more (``status in TERMINAL_STATUSES`` in the
        compiled lifecycle: an enum's property is a Python-level call there)."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES: Final = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)

_ALLOWED: Final[dict[OrderStatus, frozenset[OrderStatus]]] = {
    OrderStatus.NEW: frozenset({OrderStatus.SUBMITTING, OrderStatus.REJECTED}),
    OrderStatus.SUBMITTING: frozenset(
        {
            OrderStatus.OPEN,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
            OrderStatus.CANCELED,
            OrderStatus.UNKNOWN,
        }
    ),
    OrderStatus.UNKNOWN: frozenset(
        {
            OrderStatus.OPEN,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.EXPIRED,
            OrderStatus.REJECTED,
        }
    ),
    OrderStatus.OPEN: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.EXPIRED,
        }
    ),
}


@dataclass(slots=True, unsafe_hash=True, init=False)
class Fill:
    """One execution of (part of) an order. ``fee`` is in ``fee_asset``."""

    client_order_id: Final[ClientOrderId]
    symbol: Final[str]
    side: Final[OrderSide]
    qty: Final[Decimal]
    price: Final[Decimal]
    fee: Final[Decimal]
    fee_asset: Final[str]
    ts_ms: Final[int]
    trade_id: Final[str]
    is_maker: Final[bool]

    def __init__(
        self,
        client_order_id: ClientOrderId,
        symbol: str,
        side: OrderSide,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_asset: str,
        ts_ms: int,
        trade_id: str = "",
        is_maker: bool = False,
    ) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.price = price
        self.fee = fee
        self.fee_asset = fee_asset
        self.ts_ms = ts_ms
        self.trade_id = trade_id
        self.is_maker = is_maker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Fill, field_values(self)

    @property
    def key(self) -> str:
        """The fill's identity within its order: the venue's trade id, else its contents.

        Some venues (and simulated fills) report no trade id; two fills of one order at the
        same millisecond, amount and price are then taken to be the same report seen twice.
        """
        return self.trade_id or f"~{self.ts_ms}:{self.qty}@{self.price}"

    @property
    def notional(self) -> Decimal:
        """Quote value of the fill, before fees."""
        return self.qty * self.price


@dataclass(slots=True, init=False)
class Order:
    """An order and its lifecycle; transitions outside the state machine raise.

    Its ``__init__`` is written out, as a record's is (``tradebot.domain.records``): compiled,
    it is native code; the backtest makes two orders a round trip.
    """

    client_order_id: ClientOrderId
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    status: OrderStatus
    exchange_order_id: str | None
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    created_ts_ms: int
    updated_ts_ms: int
    reason: str
    status_reason: str
    """The venue's words when it refused (REJECTED) or expired (EXPIRED) the order."""
    fills: list[Fill]

    def __init__(
        self,
        client_order_id: ClientOrderId,
        symbol: str,
        side: OrderSide,
        type: OrderType,
        qty: Decimal,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        status: OrderStatus = OrderStatus.NEW,
        exchange_order_id: str | None = None,
        filled_qty: Decimal = _ZERO,
        avg_fill_price: Decimal | None = None,
        created_ts_ms: int = 0,
        updated_ts_ms: int = 0,
        reason: str = "",
        status_reason: str = "",
        fills: list[Fill] | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.side = side
        self.type = type
        self.qty = qty
        self.price = price
        self.stop_price = stop_price
        self.time_in_force = time_in_force
        self.status = status
        self.exchange_order_id = exchange_order_id
        self.filled_qty = filled_qty
        self.avg_fill_price = avg_fill_price
        self.created_ts_ms = created_ts_ms
        self.updated_ts_ms = updated_ts_ms
        self.reason = reason
        self.status_reason = status_reason
        self.fills = [] if fills is None else fills

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Order, field_values(self)  # copy and pickle through __init__ (records.py)

    @property
    def remaining_qty(self) -> Decimal:
        """Amount still to fill."""
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self.status not in TERMINAL_STATUSES

    def transition(self, status: OrderStatus, ts_ms: int) -> None:
        """Move to ``status``.

        Raises:
            StateError: the state machine does not allow the move.
        """
        if status == self.status and status is not OrderStatus.PARTIALLY_FILLED:
            return
        allowed = _ALLOWED.get(self.status)
        if allowed is None or status not in allowed:
            raise StateError(
                f"order {self.client_order_id}: cannot go from {self.status} to {status}"
            )
        self.status = status
        self.updated_ts_ms = ts_ms

    def apply_fill(self, fill: Fill) -> None:
        """Record a fill and move to PARTIALLY_FILLED or FILLED.

        A fill reported after the order was canceled or expired is booked (the venue made
        it); the terminal status stays.

        Raises:
            StateError: the fill is for another order, overfills this one, or comes after
                the order filled completely (nothing is booked then).
        """
        if fill.client_order_id != self.client_order_id:
            raise StateError(f"fill for {fill.client_order_id} applied to {self.client_order_id}")
        if self.status is OrderStatus.FILLED:  # refuse before booking anything
            raise StateError(
                f"order {self.client_order_id}: cannot go from {self.status} to a fill"
            )
        filled, qty = self.filled_qty, fill.qty
        new_filled = filled + qty
        if new_filled > self.qty:
            raise StateError(
                f"order {self.client_order_id}: fill of {qty} overfills {filled}/{self.qty}"
            )
        if not filled:  # the first fill: its price (what the average below comes to)
            self.avg_fill_price = fill.price
        else:
            prior_cost = (self.avg_fill_price or _ZERO) * filled
            self.avg_fill_price = (prior_cost + qty * fill.price) / new_filled
        self.filled_qty = new_filled
        self.fills.append(fill)
        if self.status in TERMINAL_STATUSES:
            # A late fill: the venue executed part of the order before it was canceled or
            # expired, and the report of the fill came after the report of the status. The
            # venue's word stands on both: the fill is booked, the status kept.
            self.updated_ts_ms = max(self.updated_ts_ms, fill.ts_ms)
            return
        if self.status is OrderStatus.NEW:
            self.transition(OrderStatus.SUBMITTING, fill.ts_ms)
        if self.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN):
            self.transition(OrderStatus.OPEN, fill.ts_ms)
        done = new_filled == self.qty
        self.transition(OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED, fill.ts_ms)
