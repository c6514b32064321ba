"""Checks a new order must pass before it reaches the book, with Binance's error codes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from tradebot.domain.fills import Resting
from tradebot.domain.orders import OrderSide, OrderType
from tradebot.sandbox.errors import ApiError, bad_param
from tradebot.sandbox.markets import ORDER_TYPES, MarketSpec
from tradebot.sandbox.orders import STOP_TYPES

LIMIT_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK"})
CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
"""Binance's rule for client ids, as its -1100 message prints it."""
_CLIENT_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")


def client_id(params: Mapping[str, str], name: str) -> str:
    """The client id sent as ``name`` (an order, a leg, a list or a cancel), or a made-up one.

    Raises:
        ApiError: -1100 when it has a character Binance refuses or more than 36.
    """
    sent = params.get(name)
    if not sent:
        return f"sandbox-{secrets.token_hex(8)}"
    if not _CLIENT_ID.fullmatch(sent):
        raise bad_param(name, f"legal range is '{CLIENT_ID_RANGE}'")
    return sent


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A parsed ``POST /api/v3/order``; ``symbol`` is the venue id (``BTCUSDT``)."""

    symbol: str
    side: str
    type: str
    client_id: str
    qty: Decimal | None = None
    quote_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None


def check_shape(req: OrderRequest) -> None:
    """Refuse a request whose parameters do not fit its type.

    Raises:
        ApiError: -1116 bad type, -1117 bad side, -1115 bad timeInForce, -1102 missing or
            -1106 superfluous parameter.
    """
    if req.type not in ORDER_TYPES:
        raise ApiError(-1116, "Invalid orderType.")
    if req.side not in ("BUY", "SELL"):
        raise ApiError(-1117, "Invalid side.")
    if req.type == "MARKET":
        if (req.qty is None) == (req.quote_qty is None):
            raise ApiError(
                -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty!"
            )
        return
    if req.qty is None:
        raise bad_param("quantity")
    if req.type in LIMIT_TYPES and req.price is None:
        raise bad_param("price")
    if req.type in STOP_TYPES and req.stop_price is None:
        raise bad_param("stopPrice")
    _check_time_in_force(req)


def _check_time_in_force(req: OrderRequest) -> None:
    needs_tif = req.type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    if needs_tif and req.time_in_force is None:
        raise bad_param("timeInForce")
    if needs_tif and req.time_in_force not in TIME_IN_FORCE:
        raise ApiError(-1115, "Invalid timeInForce.")
    if not needs_tif and req.time_in_force is not None:
        raise ApiError(-1106, "Parameter 'timeInForce' sent when not required.")


def check_filters(spec: MarketSpec, req: OrderRequest, ref_price: Decimal) -> None:
    """Apply PRICE_FILTER, LOT_SIZE and NOTIONAL as Binance does (-1013).

    Market orders are valued at ``ref_price`` (the current price) for NOTIONAL.
    """
    for price in (req.price, req.stop_price):
        if price is not None and spec.filter_failure(spec.min_qty, price) == (
            "Filter failure: PRICE_FILTER"
        ):
            raise ApiError(-1013, "Filter failure: PRICE_FILTER")
    if req.qty is not None:
        failure = spec.filter_failure(req.qty, req.price or req.stop_price or ref_price)
        if failure is not None:
            raise ApiError(-1013, failure)
    elif req.quote_qty is not None and req.quote_qty < spec.min_notional:
        raise ApiError(-1013, "Filter failure: NOTIONAL")


def would_trigger(req: OrderRequest, price: Decimal) -> bool:
    """True when a stop or take-profit order's condition already holds at ``price``.

    The trigger rule is the one of ``tradebot.domain.fills`` (Binance's: stop-loss sells
    below, take-profit sells above, buys mirror).
    """
    assert req.stop_price is not None
    side, kind = OrderSide(req.side.lower()), OrderType(req.type.lower())
    return Resting(req.client_id, side, kind, req.price, req.stop_price).is_reached(price)
