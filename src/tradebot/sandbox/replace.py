"""``POST /api/v3/order/cancelReplace``: cancel one order and place another in one request.

As on Binance: the new order's shape and the market's filters are checked before anything is
done; the cancel can be held to an order of one status (``cancelRestrictions``: ``ONLY_NEW``
cancels only an order with nothing filled); ``STOP_ON_FAILURE`` tries the new order only once
the cancel succeeded, ``ALLOW_FAILURE`` tries it either way. The two parts are not one
transaction: a part that succeeded stands when the other fails. A failure answers code
-2022 (status 400) when no part succeeded and -2021 (status 409) when one did, with each
part's result and answer in ``data``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tradebot.sandbox.errors import ApiError, bad_param
from tradebot.sandbox.rules import client_id

if TYPE_CHECKING:
    from tradebot.sandbox.rest import Json, Params, RestApi

_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")
_RESTRICTIONS = {"ONLY_NEW": "NEW", "ONLY_PARTIALLY_FILLED": "PARTIALLY_FILLED"}


def restriction(value: str | None) -> str | None:
    """The order status a ``cancelRestrictions`` value asks for; None when not sent.

    Raises:
        ApiError: -1145 for any other value.
    """
    if not value:
        return None
    if value not in _RESTRICTIONS:
        raise ApiError(-1145, "Invalid cancelRestrictions")
    return _RESTRICTIONS[value]


def cancel_replace(api: RestApi, params: Params, order_id: int | None) -> Json:
    """Answer a cancel-replace as Binance does (the module docstring says how);
    ``order_id`` is the ``cancelOrderId`` sent."""
    mode = params.get("cancelReplaceMode", "")
    if not mode:
        raise bad_param("cancelReplaceMode")
    if mode not in _MODES:
        raise bad_param("cancelReplaceMode", f"legal range is '{', '.join(_MODES)}'")
    old_client_id = params.get("cancelOrigClientOrderId") or None
    if order_id is None and old_client_id is None:
        raise ApiError(
            -1102,
            "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, "
            "but both were empty/null!",
        )
    only = restriction(params.get("cancelRestrictions"))
    request = api.order_request(params)
    venue = api.venue
    venue.engine.check_rules(request)  # filters first: a refused new order cancels nothing
    cancel_id = client_id(params, "cancelNewClientOrderId")
    canceled, cancel_answer = _part(
        lambda: venue.engine.cancel(request.symbol, order_id, old_client_id, only).canceled(
            cancel_id, venue.now_ms
        )
    )
    data: dict[str, object] = {
        "cancelResult": "SUCCESS" if canceled else "FAILURE",
        "newOrderResult": "NOT_ATTEMPTED",
        "cancelResponse": cancel_answer,
        "newOrderResponse": None,
    }
    if not canceled and mode == "STOP_ON_FAILURE":
        raise ApiError(-2022, "Order cancel-replace failed.", data=data)
    placed, data["newOrderResponse"] = _part(lambda: api.placed(params, request))
    data["newOrderResult"] = "SUCCESS" if placed else "FAILURE"
    if canceled and placed:
        return data
    if canceled or placed:
        raise ApiError(-2021, "Order cancel-replace partially failed.", status=409, data=data)
    raise ApiError(-2022, "Order cancel-replace failed.", data=data)


def _part(run: Callable[[], Json]) -> tuple[bool, Json]:
    """One part's outcome: whether it succeeded, and its answer or its error's body."""
    try:
        return True, run()
    except ApiError as error:
        return False, error.body()
