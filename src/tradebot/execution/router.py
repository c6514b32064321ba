"""OrderRouter: the engine's book of its own orders, and the home of their lifecycle.

Client order ids are derived from the decision that caused the order — the symbol, the bar
it was decided on and the order's role — so an order can be traced to its decision. They
are never reused: Binance refuses a duplicate id only while the first order is *open*, so a
re-sent id of a filled order would be a second real order. The router therefore knows every
id it ever used, including those of orders closed before a restart (``remember``).

The lifecycle rules live here and nowhere else: an order is acknowledged (SUBMITTING → OPEN)
by the venue's answer or by its first fill; a fill is booked once, keyed by the venue's
trade id; a status comes only from the venue's word (an OCO partner is closed when the venue
reports it, never inferred); a fill reported after a cancel is booked (the venue made it).
Every order an event changed is remembered until ``drain_changed`` hands it to the shell
that persists it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Final

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import StateError
from tradebot.domain.events import OrderUpdated
from tradebot.domain.orders import (
    TERMINAL_STATUSES,
    ClientOrderId,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradebot.domain.records import field_values


class OrderRole(StrEnum):
    """Why an order exists; part of its client id and of the trade's exit reason."""

    ENTRY = "en"
    EXIT = "ex"
    STOP_LOSS = "sl"
    TAKE_PROFIT = "tp"
    FLATTEN = "fl"
    STOP_EXIT = "sx"  # a market exit in place of a stop the price has already passed

    @property
    def exit_reason(self) -> str:
        """Readable reason for a trade closed by an order of this role."""
        return _EXIT_REASONS.get(self, "")


_EXIT_REASONS: Final = {
    OrderRole.EXIT: "signal",
    OrderRole.STOP_LOSS: "stop_loss",
    OrderRole.STOP_EXIT: "stop_loss",
    OrderRole.TAKE_PROFIT: "take_profit",
    OrderRole.FLATTEN: "flatten",
}
# a dict lookup: an id's role is read often
_ROLES: Final = {role.value: role for role in OrderRole}
_ROLE_OF: Final[dict[str, OrderRole]] = {}  # ids read lately (``role_of``), cleared when full
_ROLE_OF_MAX: Final = 4096
# and its suffix made for every order: an enum's ``.value`` is a Python property, which a
# compiled caller (hatch_build.py) still calls through the interpreter
_SUFFIXES: Final = {role: role.value for role in OrderRole}
_REFUSED: Final = frozenset({OrderStatus.REJECTED, OrderStatus.EXPIRED})
_ZERO: Final = Decimal(0)


@cache
def _compact(symbol: str) -> str:
    return "".join(ch for ch in symbol if ch.isalnum())


def make_client_order_id(
    prefix: str, symbol: str, bar_ts_ms: int, role: OrderRole, attempt: int = 0
) -> ClientOrderId:
    """Build a deterministic id (Binance allows ``[A-Za-z0-9_-]{1,36}``).

    ``attempt`` distinguishes deliberate re-sends of the same role on the same bar (a
    trailing stop moved twice), never a retry of one send.
    """
    compact = _compact(symbol)
    suffix = _SUFFIXES[role] if attempt == 0 else f"{_SUFFIXES[role]}{attempt}"
    cid = f"{prefix}-{compact}-{bar_ts_ms}-{suffix}"
    if len(cid) > 36:
        raise StateError(f"client order id {cid!r} is longer than 36 characters")
    return ClientOrderId(cid)


def role_of(client_order_id: ClientOrderId) -> OrderRole | None:
    """Recover the role from an id made by ``make_client_order_id``.

    The roles read lately are kept: an order's id is read at each step of its life (its
    fill, its protection, the search for a working entry at every bar), and reading one
    back from the text cuts two strings.
    """
    role = _ROLE_OF.get(client_order_id)
    if role is None:
        if client_order_id[-3:-2] == "-":  # ``...-en``: the last part is the role itself
            role = _ROLES.get(client_order_id[-2:])
        else:
            role = _ROLES.get(client_order_id.rsplit("-", 1)[-1][:2])
        if role is not None:
            _keep_role(client_order_id, role)
    return role


def _keep_role(client_order_id: str, role: OrderRole) -> None:
    """Keep an id's role for ``role_of`` (the router keeps each id it makes, with the role
    it was made for: its fill and protection read it back)."""
    if len(_ROLE_OF) >= _ROLE_OF_MAX:
        _ROLE_OF.clear()
    _ROLE_OF[client_order_id] = role


@dataclass(slots=True, unsafe_hash=True, init=False)
class OrderIntent:
    """What the engine wants sent, before it has an id (a record: one is made per order)."""

    symbol: Final[str]
    side: Final[OrderSide]
    type: Final[OrderType]
    qty: Final[Decimal]
    role: Final[OrderRole]
    price: Final[Decimal | None]
    stop_price: Final[Decimal | None]
    reason: Final[str]
    oco_with: Final[ClientOrderId | None]

    def __init__(
        self,
        symbol: str,
        side: OrderSide,
        type: OrderType,
        qty: Decimal,
        role: OrderRole,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        reason: str = "",
        oco_with: ClientOrderId | None = None,
    ) -> None:
        self.symbol = symbol
        self.side = side
        self.type = type
        self.qty = qty
        self.role = role
        self.price = price
        self.stop_price = stop_price
        self.reason = reason
        self.oco_with = oco_with

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return OrderIntent, field_values(self)


class OrderRouter:
    """Turns intents into commands and tracks every order the engine sent."""

    def __init__(self, id_prefix: str = "tb") -> None:
        self.id_prefix = id_prefix
        self._orders: dict[ClientOrderId, Order] = {}
        self._open: dict[ClientOrderId, Order] = {}
        self._open_of: dict[str, dict[ClientOrderId, Order]] = {}  # the same, by symbol
        # the entries alone, by symbol, in the order placed: the working entry is looked
        # for at every bar visited (it was a walk of the market's working orders, reading
        # each id's role back)
        self._open_entries: dict[str, dict[ClientOrderId, Order]] = {}
        self._used: set[str] = set()
        self._changed: dict[ClientOrderId, Order] = {}

    def __iter__(self) -> Iterator[Order]:
        return iter(self._orders.values())

    def get(self, client_order_id: ClientOrderId) -> Order | None:
        """The order with that id, if the engine sent it."""
        return self._orders.get(client_order_id)

    @property
    def has_open_orders(self) -> bool:
        """True while any order the engine sent may still fill."""
        return bool(self._open)

    def has_open(self, symbol: str) -> bool:
        """True while an order of ``symbol`` may still fill (one engine trades many)."""
        return bool(self._open_of.get(symbol))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """The engine's orders that are still working."""
        if symbol is None:
            return list(self._open.values())
        mine = self._open_of.get(symbol)
        return list(mine.values()) if mine else []

    def working_entry(self, symbol: str) -> Order | None:
        """The earliest placed of ``symbol``'s working entry orders, or None."""
        mine = self._open_entries.get(symbol)
        if mine:
            for order in mine.values():
                return order
        return None

    def _add_open(self, order: Order, role: OrderRole | None) -> None:
        cid = order.client_order_id
        self._open[cid] = order
        self._open_of.setdefault(order.symbol, {})[cid] = order
        if role is OrderRole.ENTRY:
            self._open_entries.setdefault(order.symbol, {})[cid] = order

    def _drop_open(self, order: Order) -> None:
        cid = order.client_order_id
        self._open.pop(cid, None)
        mine = self._open_of.get(order.symbol)
        if mine is not None:
            mine.pop(cid, None)
        entries = self._open_entries.get(order.symbol)
        if entries:
            entries.pop(cid, None)

    def place(self, intent: OrderIntent, bar_ts_ms: int) -> PlaceOrder:
        """Register an order for ``intent`` and return the command that sends it."""
        attempt = 0
        cid = make_client_order_id(self.id_prefix, intent.symbol, bar_ts_ms, intent.role)
        while cid in self._orders or cid in self._used:
            attempt += 1
            cid = make_client_order_id(
                self.id_prefix, intent.symbol, bar_ts_ms, intent.role, attempt
            )
        symbol, side, kind, qty = intent.symbol, intent.side, intent.type, intent.qty
        price, stop_price, reason = intent.price, intent.stop_price, intent.reason
        # Both made positionally, in their fields' order (keywords made them twice as slow
        # to make; one of each per order). The order: id, symbol, side, type, qty, price,
        # stop price, time in force, status, exchange id, filled, average price, created,
        # updated, reason; NEW → SUBMITTING at the bar it was decided on.
        order = self._orders[cid] = Order(
            cid, symbol, side, kind, qty, price, stop_price, TimeInForce.GTC,
            OrderStatus.SUBMITTING, None, _ZERO, None, bar_ts_ms, bar_ts_ms, reason,
        )  # fmt: skip
        self._add_open(order, intent.role)
        _keep_role(cid, intent.role)
        self._changed[cid] = order
        # id, symbol, side, type, qty, price, stop price, time in force, reason, OCO partner
        return PlaceOrder(
            cid,
            symbol,
            side,
            kind,
            qty,
            price,
            stop_price,
            TimeInForce.GTC,
            reason,
            intent.oco_with,
        )

    def adopt(self, order: Order) -> None:
        """Track an order found on the exchange or in saved state (recovery)."""
        self._orders[order.client_order_id] = order
        if order.is_open:
            self._add_open(order, role_of(order.client_order_id))

    def remember(self, client_order_ids: Iterable[str]) -> None:
        """Ids used before (saved orders long closed): never to be sent again."""
        self._used.update(client_order_ids)

    def drain_changed(self) -> tuple[Order, ...]:
        """The orders changed since the last call, each once, in the order they changed."""
        if not self._changed:
            return ()
        changed = tuple(self._changed.values())
        self._changed = {}
        return changed

    def on_fill(self, fill: Fill) -> Order | None:
        """Apply a fill to its order; None for an order not ours or a fill already booked."""
        order = self._orders.get(fill.client_order_id)
        if order is None:
            return None
        if order.fills and any(f.key == fill.key for f in order.fills):
            return None
        if order.status is OrderStatus.SUBMITTING or order.status is OrderStatus.UNKNOWN:
            order.transition(OrderStatus.OPEN, fill.ts_ms)
        order.apply_fill(fill)
        if not order.is_open:
            self._drop_open(order)
        self._changed[order.client_order_id] = order
        return order

    def on_update(self, event: OrderUpdated) -> bool:
        """Apply a venue's report (``on_status`` with its status, time and reason)."""
        return self.on_status(event.client_order_id, event.status, event.ts_ms, event.reason)

    def on_status(
        self, client_order_id: ClientOrderId, status: OrderStatus, ts_ms: int, reason: str = ""
    ) -> bool:
        """Apply a status the venue reported; True when the order changed.

        A report for a closed order changes nothing (the first word stands); executions
        come only as fills. The ``reason`` of a refusal or an expiry is kept on the order
        (``status_reason``), so the saved row says why nothing traded.
        """
        order = self._orders.get(client_order_id)
        if order is None or order.status is status or not order.is_open:
            return False
        if status is OrderStatus.FILLED or status is OrderStatus.PARTIALLY_FILLED:
            return False  # executions arrive as fills, each booked once
        if status is OrderStatus.UNKNOWN and order.status is not OrderStatus.SUBMITTING:
            return False
        if status is OrderStatus.OPEN and order.status is OrderStatus.PARTIALLY_FILLED:
            return False
        order.transition(status, ts_ms)
        if status in _REFUSED:
            order.status_reason = reason
        if status in TERMINAL_STATUSES:
            self._drop_open(order)
        self._changed[order.client_order_id] = order
        return True

    def forget_closed(self, before_ms: int | None = None) -> None:
        """Drop the orders that closed before ``before_ms`` (every closed one when None): a
        long backtest would otherwise keep every order. Their ids stay used, never to be
        sent again; a fill reported later for one of them is not the engine's any more.
        One changed and not drained yet is still handed out by ``drain_changed``."""
        kept: dict[ClientOrderId, Order] = {}
        for cid, order in self._orders.items():
            if order.is_open or (before_ms is not None and order.updated_ts_ms >= before_ms):
                kept[cid] = order
            else:
                self._used.add(cid)
        self._orders = kept
