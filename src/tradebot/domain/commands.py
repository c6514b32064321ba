"""Outputs of the engine core. Commands are imperative; the shell carries them out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradebot.domain.decisions import Decision
from tradebot.domain.locks import Lock
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderType, TimeInForce
from tradebot.domain.portfolio import Trade
from tradebot.domain.records import field_values


@dataclass(slots=True, unsafe_hash=True, init=False)
class PlaceOrder:
    """Send an order. Amount and prices are already rounded to the market's precision.

    ``take_profit_price`` and ``take_profit_id`` turn a sell stop into a one-cancels-the-other
    pair: the stop below and a take-profit limit (maker) order above, sharing one locked
    amount, sent as one request (Binance's OCO order list); when either fills, the other is
    canceled. ``oco_with`` links an order to a resting partner the same way, for venues that
    take the legs one by one (the simulated exchange).
    """

    client_order_id: Final[ClientOrderId]
    symbol: Final[str]
    side: Final[OrderSide]
    type: Final[OrderType]
    qty: Final[Decimal]
    price: Final[Decimal | None]
    stop_price: Final[Decimal | None]
    time_in_force: Final[TimeInForce]
    reason: Final[str]
    oco_with: Final[ClientOrderId | None]
    take_profit_price: Final[Decimal | None]
    take_profit_id: Final[ClientOrderId | None]

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
        reason: str = "",
        oco_with: ClientOrderId | None = None,
        take_profit_price: Decimal | None = None,
        take_profit_id: ClientOrderId | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.side = side
        self.type = type
        self.qty = qty
        self.price = price
        self.stop_price = stop_price
        self.time_in_force = time_in_force
        self.reason = reason
        self.oco_with = oco_with
        self.take_profit_price = take_profit_price
        self.take_profit_id = take_profit_id

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return PlaceOrder, field_values(self)

    def take_profit_leg(self) -> PlaceOrder | None:
        """The take-profit half of an OCO pair as an order of its own, or None."""
        if self.take_profit_id is None or self.take_profit_price is None:
            return None
        return PlaceOrder(
            client_order_id=self.take_profit_id,
            symbol=self.symbol,
            side=self.side,
            type=OrderType.LIMIT_MAKER,
            qty=self.qty,
            price=self.take_profit_price,
            reason="take profit",
            oco_with=self.client_order_id,
        )


@dataclass(slots=True, unsafe_hash=True, init=False)
class CancelOrder:
    """Cancel a resting order."""

    client_order_id: Final[ClientOrderId]
    symbol: Final[str]
    reason: Final[str]

    def __init__(
        self,
        client_order_id: ClientOrderId,
        symbol: str,
        reason: str = "",
    ) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.reason = reason

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return CancelOrder, field_values(self)


Command = PlaceOrder | CancelOrder


@dataclass(slots=True, unsafe_hash=True, init=False)
class Step:
    """What one event did to the engine: everything a shell must send and persist.

    ``commands`` go to the venue in order. ``orders`` are the engine's orders whose state the
    event changed (new intents included), ``fills`` the fills it booked (empty for a fill
    already booked: de-duplicated by the venue's trade id), ``trades`` the round trips it
    closed, ``decision`` the record of a bar's decision, ``locks`` the protections' locks its
    closed trades set. A shell persists all of it in one transaction, then sends the
    commands. One is made per event.
    """

    commands: Final[tuple[Command, ...]]
    decision: Final[Decision | None]
    orders: Final[tuple[Order, ...]]
    fills: Final[tuple[Fill, ...]]
    trades: Final[tuple[Trade, ...]]
    locks: Final[tuple[Lock, ...]]

    def __init__(
        self,
        commands: tuple[Command, ...] = (),
        decision: Decision | None = None,
        orders: tuple[Order, ...] = (),
        fills: tuple[Fill, ...] = (),
        trades: tuple[Trade, ...] = (),
        locks: tuple[Lock, ...] = (),
    ) -> None:
        self.commands = commands
        self.decision = decision
        self.orders = orders
        self.fills = fills
        self.trades = trades
        self.locks = locks

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Step, field_values(self)

    @property
    def is_empty(self) -> bool:
        """True when the event changed nothing."""
        return not (
            self.commands or self.decision or self.orders or self.fills or self.trades
            or self.locks
        )  # fmt: skip


NOTHING: Final = Step()
"""The step of an event that changed nothing."""


def make_step(
    commands: tuple[Command, ...],
    decision: Decision | None,
    orders: tuple[Order, ...],
    fills: tuple[Fill, ...] = (),
    trades: tuple[Trade, ...] = (),
    locks: tuple[Lock, ...] = (),
) -> Step:
    """``Step(commands, decision, orders, ...)``, positionally (keywords made it slower to
    make, and the engine makes a step for nearly every event: 63,000 in a year of minute
    bars)."""
    return Step(commands, decision, orders, fills, trades, locks)
