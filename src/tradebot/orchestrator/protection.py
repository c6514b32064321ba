"""Protector: the orders that guard a position — its stop, its take-profit, or both as one
one-cancels-the-other (OCO) list — and the bookkeeping that keeps both legs in step.

The venue cancels the partner leg when one leg fills or is canceled; the engine hears only
of the leg it touched, so the pairs are remembered here and the partner is closed locally.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tradebot.domain.commands import CancelOrder, Command, PlaceOrder
from tradebot.domain.market import Market
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.execution.positions import PositionManager, Protection
from tradebot.execution.router import OrderIntent, OrderRole, OrderRouter
from tradebot.risk.stops import StopLossManager

ZERO = Decimal(0)


class Protector:
    """Places, pairs and cancels one symbol's protective orders."""

    def __init__(
        self,
        symbol: str,
        market: Market,
        router: OrderRouter,
        positions: PositionManager,
        stops: StopLossManager,
    ) -> None:
        self.symbol = symbol
        self.market = market
        self.router = router
        self.positions = positions
        self.stops = stops
        self._oco_partner: dict[ClientOrderId, ClientOrderId] = {}

    def protect_position(self, ts_ms: int, atr_value: float | None) -> list[Command]:
        """Place the stop (and target) of a position that has none (after a restart)."""
        pos = self.positions.position(self.symbol)
        if pos is None or self.positions.is_flat(self.symbol):
            return []
        if any(
            self.positions.is_protective(o.client_order_id)
            for o in self.router.open_orders(self.symbol)
        ):
            return []
        stop = self.stops.calculate_stop(pos.avg_price, atr_value)
        target = self.stops.take_profit(pos.avg_price, stop)
        return self.place(ts_ms, stop.price if stop else None, target, atr_value)

    def close_partner(self, client_order_id: ClientOrderId, ts_ms: int) -> None:
        """One leg of an OCO pair done means both are: the venue cancels the partner."""
        partner = self._oco_partner.pop(client_order_id, None)
        if partner is None:
            return
        self._oco_partner.pop(partner, None)
        other = self.router.get(partner)
        if other is not None and other.is_open:
            self.router.on_status(partner, OrderStatus.CANCELED, ts_ms)

    def place(
        self, ts: int, stop: Decimal | None, target: Decimal | None, atr_value: float | None
    ) -> list[Command]:
        """Protect the position: a stop, a take-profit, or both as one OCO list."""
        qty = self.positions.sellable_qty(self.symbol)
        protection = Protection(entry_atr=atr_value)
        self.positions.protect(self.symbol, protection)
        if qty <= 0 or self.market.limit_violation(qty, stop or target or ZERO):
            return []
        stop_cmd = tp_cmd = None
        if stop is not None:
            stop_cmd = self._place_exit(
                OrderType.STOP_LOSS, OrderRole.STOP_LOSS, qty, ts, stop_price=stop
            )
            protection.stop_order_id, protection.stop_price = (
                stop_cmd.client_order_id,
                stop_cmd.stop_price,
            )
        if target is not None:
            kind = OrderType.LIMIT_MAKER if stop_cmd is not None else OrderType.LIMIT
            tp_cmd = self._place_exit(kind, OrderRole.TAKE_PROFIT, qty, ts, price=target)
            protection.take_profit_order_id = tp_cmd.client_order_id
            protection.take_profit_price = tp_cmd.price
        if stop_cmd is not None and tp_cmd is not None:
            # One OCO list: the stop command carries its take-profit leg.
            self._oco_partner[stop_cmd.client_order_id] = tp_cmd.client_order_id
            self._oco_partner[tp_cmd.client_order_id] = stop_cmd.client_order_id
            pair = replace(
                stop_cmd, take_profit_price=tp_cmd.price, take_profit_id=tp_cmd.client_order_id
            )
            return [pair]
        return [c for c in (stop_cmd, tp_cmd) if c is not None]

    def _place_exit(
        self,
        kind: OrderType,
        role: OrderRole,
        qty: Decimal,
        ts: int,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> PlaceOrder:
        intent = OrderIntent(
            self.symbol,
            OrderSide.SELL,
            kind,
            qty,
            role,
            price=None if price is None else self.market.round_price(price),
            stop_price=None if stop_price is None else self.market.round_price(stop_price),
            reason=role.exit_reason.replace("_", " "),
        )
        return self.router.place(intent, ts)

    def cancel(
        self, symbol: str, reason: str, already_done: frozenset[ClientOrderId] = frozenset()
    ) -> list[Command]:
        """Cancel resting stops/targets; one cancel takes down both legs of an OCO pair."""
        working = [
            o
            for o in self.router.open_orders(symbol)
            if self.positions.is_protective(o.client_order_id)
            and o.client_order_id not in already_done
        ]
        if self.shares_oco(symbol):
            working = working[:1]
        return [CancelOrder(o.client_order_id, symbol, reason) for o in working]

    def shares_oco(self, symbol: str) -> bool:
        protection = self.positions.protection_of(symbol)
        return bool(protection and protection.stop_order_id and protection.take_profit_order_id)
