"""Protector: the orders that guard a position — its stop, its take-profit, or both as one
one-cancels-the-other (OCO) list — and the bookkeeping that keeps both legs in step.

The venue cancels the partner leg when one leg fills or is canceled, and reports it; the
partner is closed only by that report (the router's lifecycle), never inferred here: a leg
that filled in the same instant as its partner expired must still book its fill.

A stop the price has already passed would be refused by the venue ("would trigger
immediately") and retried every bar, leaving the position without protection and without an
exit: such a stop becomes a market exit now, recorded with its reason.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from tradebot.domain.commands import CancelOrder, Command, PlaceOrder
from tradebot.domain.market import Market
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.execution.positions import PositionManager, Protection
from tradebot.execution.router import OrderIntent, OrderRole, OrderRouter, role_of
from tradebot.orchestrator.settings import ATR_COLUMN
from tradebot.risk.stops import StopLossManager
from tradebot.strategy.base import Bars

ZERO: Final = Decimal(0)
_EXITS: Final = (OrderRole.EXIT, OrderRole.FLATTEN)


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

    def needs_protection(self) -> bool:
        """True for a position with nothing working for it and no protection computed yet
        (after a restart, or after the venue refused its stop for a passing reason)."""
        protection = self.positions.protection_of(self.symbol)
        if protection is not None and protection.checked:
            return False  # the common case, kept cheap
        return not self.positions.is_flat(self.symbol) and not self.router.open_orders(self.symbol)

    def restore(self, symbol: str) -> None:
        """Remember the stop and target found working (after a restart)."""
        protection = Protection(checked=True)
        for order in self.router.open_orders(symbol):
            role = role_of(order.client_order_id)
            if role is OrderRole.STOP_LOSS:
                protection.stop_order_id, protection.stop_price = (
                    order.client_order_id,
                    order.stop_price,
                )
            elif role is OrderRole.TAKE_PROFIT:
                protection.take_profit_order_id = order.client_order_id
                protection.take_profit_price = order.price
        if protection.stop_order_id or protection.take_profit_order_id:
            self.positions.protect(symbol, protection)

    def orphans(self) -> list[Command]:
        """Cancel stops and targets left working while flat (their exit filled, then a crash
        came before the cancel): they would sell what is no longer held."""
        cancels: list[Command] = [
            CancelOrder(o.client_order_id, o.symbol, "position already closed")
            for o in self.router.open_orders(self.symbol)
            if self.positions.is_protective(o.client_order_id)
        ]
        return cancels[:1] if self.shares_oco(self.symbol) else cancels

    def guard(self, bars: Bars, i: int, close: Decimal) -> list[Command]:
        """At the close of bar ``i``: a position with nothing guarding it (after a restart,
        or a stop the venue refused) gets its stop now, from that bar's ATR, or is sold if
        the price (``close``) already passed the stop."""
        if not self.needs_protection():
            return []
        atr_value = float(bars[ATR_COLUMN][i])
        atr_or_none = atr_value if atr_value == atr_value else None
        return self.protect_position(int(bars.ts_ms[i]), atr_or_none, close)

    def trail(self, bars: Bars, i: int, close: Decimal) -> tuple[list[Command], str]:
        """At the close of bar ``i``: move a trailing stop up (cancel, place anew), and
        what was done for the decision ("hold" when it stays)."""
        protection = self.positions.protection_of(self.symbol)
        if protection is None or protection.stop_price is None:
            return [], "hold"
        atr_value = float(bars[ATR_COLUMN][i])
        new_stop = self.stops.update_trailing_stop(
            protection.stop_price, close, atr_value if atr_value == atr_value else None
        )
        if new_stop is None:
            return [], "hold"
        commands = self.cancel(self.symbol, "trailing stop moved")
        commands.extend(
            self.place(
                int(bars.ts_ms[i]), new_stop, protection.take_profit_price, protection.entry_atr
            )
        )
        return commands, f"trail stop to {self.market.round_price(new_stop)}"

    def protect_position(self, ts_ms: int, atr_value: float | None, mark: Decimal) -> list[Command]:
        """Place the stop (and target) of a position that has none, from its average cost."""
        pos = self.positions.position(self.symbol)
        if pos is None:
            return []
        stop = self.stops.calculate_stop(pos.avg_price, atr_value)
        target = self.stops.take_profit(pos.avg_price, stop)
        return self.place(ts_ms, stop.price if stop else None, target, atr_value, mark)

    def on_refused(self, client_order_id: ClientOrderId, reason: str, ts_ms: int) -> list[Command]:
        """A stop the venue refused because the price already passed it: exit at market."""
        protection = self.positions.protection_of(self.symbol)
        if protection is None or client_order_id != protection.stop_order_id:
            return []
        if "immediately" not in reason.lower():
            self.positions.protection.pop(self.symbol, None)  # placed again at the next bar
            return []
        protection.stop_order_id = None
        if self.positions.is_flat(self.symbol):
            return []
        return self.exit_now(ts_ms, f"stop refused by the venue ({reason}): exit at market")

    def exit_now(self, ts_ms: int, reason: str) -> list[Command]:
        """Sell the whole position at market in place of its stop."""
        qty = self.positions.sellable_qty(self.symbol)
        if qty <= 0:
            return []
        intent = OrderIntent(
            self.symbol, OrderSide.SELL, OrderType.MARKET, qty, OrderRole.STOP_EXIT, reason=reason
        )
        return [self.router.place(intent, ts_ms)]

    def resize_exit(self, ts_ms: int, sold: ClientOrderId) -> list[Command]:
        """An exit decided but not yet sent, for more than is held now that a stop or
        target (``sold``) sold first (between the bot's look at its trades and the cancel):
        closed unsent, and placed again for what is left. As decided, the venue would
        refuse it and leave the rest of the position with neither stop nor exit."""
        commands: list[Command] = []
        qty = self.positions.sellable_qty(self.symbol)
        for order in self.router.open_orders(self.symbol):
            role = role_of(order.client_order_id)
            if order.status is not OrderStatus.SUBMITTING or role is None or role not in _EXITS:
                continue
            why = f"not sent: {sold} sold first; {qty} left to sell"
            self.router.on_status(order.client_order_id, OrderStatus.REJECTED, ts_ms, why)
            if qty > 0 and not self.positions.is_flat(self.symbol):
                intent = OrderIntent(
                    self.symbol, OrderSide.SELL, OrderType.MARKET, qty, role, reason=order.reason
                )
                commands.append(self.router.place(intent, order.created_ts_ms))
        return commands

    def place(
        self,
        ts: int,
        stop: Decimal | None,
        target: Decimal | None,
        atr_value: float | None,
        mark: Decimal | None = None,
    ) -> list[Command]:
        """Protect the position: a stop, a take-profit, or both as one OCO list.

        ``mark`` is the latest price known; a sell stop at or above it would trigger at once,
        so the position is sold at market instead.
        """
        qty = self.positions.sellable_qty(self.symbol)
        protection = Protection(entry_atr=atr_value, checked=True)
        self.positions.protect(self.symbol, protection)
        if stop is not None and mark is not None and self.market.round_price(stop) >= mark:
            return self.exit_now(
                ts, f"stop {self.market.round_price(stop)} already passed at {mark}"
            )
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
        intent = OrderIntent(  # positional: a named tuple is made faster so
            self.symbol,
            OrderSide.SELL,
            kind,
            qty,
            role,
            None if price is None else self.market.round_price(price),
            None if stop_price is None else self.market.round_price(stop_price),
            role.exit_reason.replace("_", " "),  # reason
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
