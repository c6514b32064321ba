"""PlaceOrder → ccxt create_order arguments: rounding, limits and stop-order translation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import InvalidOrder
from tradebot.domain.market import Market
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderType
from tradebot.exchange.ccxt.placement import build_request

BTC = Market(
    "BTC/USDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal(5)
)
SPOT_TYPES = frozenset(
    {
        OrderType.MARKET,
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


def _cmd(
    kind: OrderType,
    qty: str,
    price: str | None = None,
    stop: str | None = None,
    side: OrderSide = OrderSide.BUY,
) -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId("bot-1"),
        "BTC/USDT",
        side,
        kind,
        Decimal(qty),
        None if price is None else Decimal(price),
        None if stop is None else Decimal(stop),
    )


def test_build_request_limit_rounds_amount_down_and_price_to_tick() -> None:
    request = build_request(_cmd(OrderType.LIMIT, "0.0012399", "95000.126"), BTC, SPOT_TYPES)

    assert request.amount == Decimal("0.00123")
    assert request.price == Decimal("95000.13")
    assert request.params == {"clientOrderId": "bot-1", "timeInForce": "GTC"}


def test_build_request_below_min_notional_refused_with_the_figures() -> None:
    with pytest.raises(InvalidOrder, match=r"notional 4\.75.* below the minimum notional 5"):
        build_request(_cmd(OrderType.LIMIT, "0.00005", "95000"), BTC, SPOT_TYPES)


def test_build_request_amount_rounding_to_zero_refused() -> None:
    with pytest.raises(InvalidOrder, match="not positive"):
        build_request(
            _cmd(OrderType.MARKET, "0.000001"), BTC, SPOT_TYPES, reference_price=Decimal(95000)
        )


def test_build_request_market_order_valued_at_reference_price() -> None:
    with pytest.raises(InvalidOrder, match="below the minimum notional"):
        build_request(
            _cmd(OrderType.MARKET, "0.00002"), BTC, SPOT_TYPES, reference_price=Decimal(95000)
        )


def test_build_request_market_order_sends_no_price() -> None:
    request = build_request(
        _cmd(OrderType.MARKET, "0.001"), BTC, SPOT_TYPES, reference_price=Decimal(95000)
    )

    assert request.venue_type == "market"
    assert request.price is None


def test_build_request_market_stop_without_venue_support_becomes_stop_limit_below_stop() -> None:
    command = _cmd(OrderType.STOP_LOSS, "0.001", stop="90000", side=OrderSide.SELL)

    request = build_request(command, BTC, SPOT_TYPES, stop_limit_offset=Decimal("0.01"))

    assert request.venue_type == "STOP_LOSS_LIMIT"
    assert request.price == Decimal("89100.00")
    assert request.params["stopPrice"] == "90000.00"
    assert request.sent_type is OrderType.STOP_LOSS_LIMIT


def test_build_request_market_stop_with_venue_support_is_sent_as_is() -> None:
    command = _cmd(OrderType.STOP_LOSS, "0.001", stop="90000", side=OrderSide.SELL)

    request = build_request(command, BTC, SPOT_TYPES | {OrderType.STOP_LOSS})

    assert request.venue_type == "STOP_LOSS"
    assert request.price is None


def test_build_request_stop_limit_without_stop_price_refused() -> None:
    with pytest.raises(InvalidOrder, match="needs a positive stop_price"):
        build_request(_cmd(OrderType.STOP_LOSS_LIMIT, "0.001", "90000"), BTC, SPOT_TYPES)


def test_build_request_type_not_accepted_by_market_refused_naming_accepted_ones() -> None:
    with pytest.raises(
        InvalidOrder, match=r"does not accept take_profit_limit orders.*accepted: limit"
    ):
        build_request(
            _cmd(OrderType.TAKE_PROFIT, "0.001", stop="99000"), BTC, frozenset({OrderType.LIMIT})
        )


def test_build_request_limit_maker_is_post_only_without_time_in_force() -> None:
    request = build_request(_cmd(OrderType.LIMIT_MAKER, "0.001", "90000"), BTC, SPOT_TYPES)

    assert request.params == {"clientOrderId": "bot-1", "postOnly": True}
