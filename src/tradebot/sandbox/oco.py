"""``POST /api/v3/orderList/oco``: Binance's one-cancels-the-other order list (spot).

A SELL list is a take-profit ``LIMIT_MAKER`` above the price and a ``STOP_LOSS(_LIMIT)`` below
it; a BUY list mirrors that. Both legs share one locked amount; when either fills or
triggers, the other expires. Cancelling either leg cancels the list.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradebot.sandbox.errors import ApiError, bad_param
from tradebot.sandbox.orders import OrderRecord
from tradebot.sandbox.rules import OrderRequest, client_id
from tradebot.sandbox.venue import Venue

Params = dict[str, str]
DecimalParam = Callable[[Params, str], Decimal | None]


def _leg(params: Params, prefix: str, symbol: str, get_decimal: DecimalParam) -> OrderRequest:
    order_type = params.get(f"{prefix}Type", "")
    if not order_type:
        raise bad_param(f"{prefix}Type")
    if order_type not in (
        "LIMIT_MAKER",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    ):
        raise ApiError(-1116, "Invalid orderType.")
    return OrderRequest(
        symbol=symbol,
        side=params.get("side", ""),
        type=order_type,
        client_id=client_id(params, f"{prefix}ClientOrderId"),
        qty=get_decimal(params, "quantity"),
        price=get_decimal(params, f"{prefix}Price"),
        stop_price=get_decimal(params, f"{prefix}StopPrice"),
        time_in_force=params.get(f"{prefix}TimeInForce") or None,
    )


def place_oco(venue: Venue, params: Params, symbol: str, get_decimal: DecimalParam) -> object:
    """Place the list and answer as Binance does (list status plus both order reports)."""
    list_client_id = client_id(params, "listClientOrderId")
    legs = (_leg(params, "above", symbol, get_decimal), _leg(params, "below", symbol, get_decimal))
    if "LIMIT_MAKER" not in (legs[0].type, legs[1].type):
        raise ApiError(-1128, "Combination of optional parameters invalid.")
    if any(o.list_client_id == list_client_id for o in venue.engine.open_orders(None)):
        raise ApiError(-2010, "Duplicate order sent.")  # ids are free again once a list is done
    orders = venue.engine.place_oco(legs)
    for order in orders:
        order.list_client_id = list_client_id
    return {
        "orderListId": orders[0].order_list_id,
        "contingencyType": "OCO",
        "listStatusType": "EXEC_STARTED",
        "listOrderStatus": "EXECUTING",
        "listClientOrderId": list_client_id,
        "transactionTime": venue.now_ms,
        "symbol": symbol,
        "orders": [_ref(o) for o in orders],
        "orderReports": [_report(o) for o in orders],
    }


def _ref(order: OrderRecord) -> dict[str, object]:
    return {"symbol": order.symbol, "orderId": order.order_id, "clientOrderId": order.client_id}


def _report(order: OrderRecord) -> dict[str, object]:
    report = order.placed([])
    report.pop("fills")
    return report
