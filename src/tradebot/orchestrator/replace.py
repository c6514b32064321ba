"""When a cancel and the order after it go to the venue as one cancel-replace.

An exit decided while its stop rests is a cancel of the stop and a sell: sent one after the
other, the sell waited a round trip and the cancel's own work (about a quarter of an exit's
time from the bar's close to the order). One request does both (``replace_order``), and the
venue cancels only a stop with nothing filled, so the sell's size still holds when it is
placed. Whatever does not fit (an OCO pair, a stop the bot knows sold in part, another
market) goes one at a time, as before.
"""

from __future__ import annotations

from tradebot.domain.commands import CancelOrder, Command, PlaceOrder
from tradebot.domain.orders import OrderStatus
from tradebot.orchestrator.view import EngineView


def replacement(cancel: CancelOrder, then: Command, view: EngineView) -> PlaceOrder | None:
    """The order after ``cancel`` when both can go as one cancel-replace: a single order
    (not an OCO list) still to send on the same market, in place of an order resting alone
    (not an OCO leg) with nothing filled that the bot knows of; else None."""
    if not isinstance(then, PlaceOrder) or then.symbol != cancel.symbol:
        return None
    if then.take_profit_id is not None:
        return None
    old, new = view.order(cancel.client_order_id), view.order(then.client_order_id)
    if old is None or old.status is not OrderStatus.OPEN or old.filled_qty:
        return None
    if new is None or new.status is not OrderStatus.SUBMITTING:
        return None
    protection = view.protection_of(cancel.symbol)
    return then if protection is None or protection.take_profit_order_id is None else None
