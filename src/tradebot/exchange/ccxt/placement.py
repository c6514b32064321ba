"""Turn a PlaceOrder into the exact CCXT ``create_order`` arguments, refusing bad orders early.

Amounts and prices are rounded to the market's precision and checked against its minimum
amount and notional *before* anything is sent, so the venue never sees an order it would
refuse for that (and the account's request budget is not spent on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import InvalidOrder
from tradebot.domain.market import Market
from tradebot.domain.orders import OrderSide, OrderType

_VENUE_TYPE = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.LIMIT_MAKER: "limit",
    OrderType.STOP_LOSS: "STOP_LOSS",
    OrderType.STOP_LOSS_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.TAKE_PROFIT: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT_LIMIT",
}
_MARKET_TRIGGERED = {
    OrderType.STOP_LOSS: OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT: OrderType.TAKE_PROFIT_LIMIT,
}
_NEEDS_PRICE = frozenset(
    {
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)
_NEEDS_STOP = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """Arguments of one ``ccxt.create_order`` call, already rounded and checked."""

    symbol: str
    venue_type: str
    side: str
    amount: Decimal
    price: Decimal | None
    params: dict[str, str | bool] = field(default_factory=dict)
    sent_type: OrderType = OrderType.MARKET


def _effective_type(
    command: PlaceOrder, venue_types: frozenset[OrderType], offset: Decimal, market: Market
) -> tuple[OrderType, Decimal | None]:
    # A market-triggered stop the venue lacks becomes a stop-limit priced `offset` beyond the
    # stop, so that it still fills in a fast market.
    kind, price = command.type, command.price
    if kind in _MARKET_TRIGGERED and venue_types and kind not in venue_types:
        stop = _required(command.stop_price, "stop_price", command)
        factor = 1 - offset if command.side is OrderSide.SELL else 1 + offset
        kind, price = _MARKET_TRIGGERED[kind], _on_tick(market, stop * factor)
    if venue_types and kind not in venue_types:
        raise InvalidOrder(
            f"{command.symbol}: the exchange does not accept {kind.value} orders here; "
            f"accepted: {', '.join(sorted(t.value for t in venue_types))}"
        )
    return kind, price


def _on_tick(market: Market, price: Decimal) -> Decimal:
    # rounded and written with the tick's exponent: 90000.00, never 9E+4
    return market.round_price(price).quantize(market.price_step)


def _required(value: Decimal | None, name: str, command: PlaceOrder) -> Decimal:
    if value is None or value <= 0:
        raise InvalidOrder(
            f"order {command.client_order_id}: {command.type.value} order on {command.symbol} "
            f"needs a positive {name}, got {value}"
        )
    return value


def build_request(
    command: PlaceOrder,
    market: Market,
    venue_types: frozenset[OrderType] = frozenset(),
    *,
    stop_limit_offset: Decimal = Decimal("0.005"),
    reference_price: Decimal | None = None,
) -> OrderRequest:
    """Round, check and translate ``command``.

    ``reference_price`` (the last price) values a market order's notional for the minimum
    notional check; ``venue_types`` empty means "not known, do not check".

    Raises:
        InvalidOrder: a price or stop is missing, the type is not accepted, or the rounded
            amount or notional is below the market's minimum.
    """
    kind, price = _effective_type(command, venue_types, stop_limit_offset, market)
    amount = market.round_qty(command.qty)
    rounded_price = (
        market.round_price(_required(price, "price", command)) if kind in _NEEDS_PRICE else None
    )
    params: dict[str, str | bool] = {"clientOrderId": command.client_order_id}
    if kind in _NEEDS_STOP:
        stop = _on_tick(market, _required(command.stop_price, "stop_price", command))
        params["stopPrice"] = f"{stop:f}"
    if kind in _NEEDS_PRICE and kind is not OrderType.LIMIT_MAKER:
        params["timeInForce"] = command.time_in_force.value
    if kind is OrderType.LIMIT_MAKER:
        params["postOnly"] = True
    valuation = rounded_price or reference_price or command.price or command.stop_price
    market.check_order(amount, valuation if valuation is not None else Decimal(0))
    return OrderRequest(
        symbol=command.symbol,
        venue_type=_VENUE_TYPE[kind],
        side=command.side.value,
        amount=amount,
        price=rounded_price,
        params=params,
        sent_type=kind,
    )


def build_oco_params(
    command: PlaceOrder,
    market: Market,
    venue_types: frozenset[OrderType],
    market_id: str,
    *,
    stop_limit_offset: Decimal = Decimal("0.005"),
) -> dict[str, str]:
    """Binance ``POST /api/v3/orderList/oco`` parameters for a sell stop with its take-profit.

    The take-profit is the ``above`` leg (LIMIT_MAKER), the stop the ``below`` leg
    (STOP_LOSS, or STOP_LOSS_LIMIT where the market lacks it); both legs keep the client ids
    the engine gave them, so each can be looked up and recognised in fills.

    Raises:
        InvalidOrder: not a sell pair, or a leg breaks the market's rules.
    """
    leg = command.take_profit_leg()
    if leg is None or command.side is not OrderSide.SELL:
        raise InvalidOrder(f"order {command.client_order_id}: OCO lists are sell stop + target")
    plain_stop = PlaceOrder(
        command.client_order_id,
        command.symbol,
        command.side,
        command.type,
        command.qty,
        command.price,
        command.stop_price,
        command.time_in_force,
        command.reason,
    )
    below = build_request(plain_stop, market, venue_types, stop_limit_offset=stop_limit_offset)
    above = build_request(leg, market, frozenset())
    params = {
        "symbol": market_id,
        "side": "SELL",
        "quantity": f"{below.amount:f}",
        "listClientOrderId": command.client_order_id,
        "aboveType": "LIMIT_MAKER",
        "abovePrice": f"{above.price:f}",
        "aboveClientOrderId": leg.client_order_id,
        "belowType": below.venue_type,
        "belowStopPrice": str(below.params["stopPrice"]),
        "belowClientOrderId": command.client_order_id,
    }
    if below.price is not None:
        params["belowPrice"] = f"{below.price:f}"
        params["belowTimeInForce"] = "GTC"
    return params
