"""EngineView: what the shells may read of the engine, and nothing they could change it with.

The engine changes only through its door (``TradingEngine.handle``). Shells — the
backtester, the paper/live bot, recovery, the CLI — read its orders and positions here; every
order, position and protection handed out is a copy, so no caller can edit the engine's books
by accident.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from tradebot.domain.orders import ClientOrderId, Order
from tradebot.domain.portfolio import Position
from tradebot.execution.positions import PositionManager, Protection
from tradebot.execution.router import OrderRouter

ZERO: Final = Decimal(0)


class EngineView:
    """Read-only access to one engine's orders and positions."""

    def __init__(self, router: OrderRouter, positions: PositionManager) -> None:
        self._router = router
        self._positions = positions

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        """A copy of the order with that id, if the engine knows it."""
        order = self._router.get(client_order_id)
        return None if order is None else replace(order, fills=list(order.fills))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Copies of the engine's working orders."""
        return [replace(o, fills=list(o.fills)) for o in self._router.open_orders(symbol)]

    def open_order_ids(self, symbol: str | None = None) -> list[ClientOrderId]:
        """The ids of the engine's working orders (cheap: no copies)."""
        return [o.client_order_id for o in self._router.open_orders(symbol)]

    def is_flat(self, symbol: str) -> bool:
        """True when nothing sellable is held."""
        return self._positions.is_flat(symbol)

    def held_qty(self, symbol: str) -> Decimal:
        """The amount held (dust included)."""
        position = self._positions.position(symbol)
        return position.qty if position is not None else ZERO

    def dust_qty(self, symbol: str) -> Decimal:
        """Below this a holding cannot be sold, so it counts as flat."""
        return self._positions.dust_qty(symbol)

    def sellable_qty(self, symbol: str) -> Decimal:
        """What could be sold now, rounded down to the lot step."""
        return self._positions.sellable_qty(symbol)

    def position(self, symbol: str) -> Position | None:
        """A copy of the position in ``symbol`` (None if never opened)."""
        position = self._positions.position(symbol)
        return None if position is None else replace(position)

    def protection_of(self, symbol: str) -> Protection | None:
        """A copy of the orders guarding ``symbol``, if any."""
        protection = self._positions.protection_of(symbol)
        return None if protection is None else replace(protection)
