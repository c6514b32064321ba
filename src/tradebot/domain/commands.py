"""Outputs of the engine core. Commands are imperative; the shell carries them out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradebot.domain.orders import ClientOrderId, OrderSide, OrderType, TimeInForce


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Send an order. Amount and prices are already rounded to the market's precision.

    ``oco_with`` names a resting order that shares this one's locked amount: when either
    fills, the other is canceled (a stop-loss and take-profit pair).
    """

    client_order_id: ClientOrderId
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reason: str = ""
    oco_with: ClientOrderId | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel a resting order."""

    client_order_id: ClientOrderId
    symbol: str
    reason: str = ""


Command = PlaceOrder | CancelOrder
