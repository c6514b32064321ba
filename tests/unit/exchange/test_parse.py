"""CCXT unified dicts (as ccxt 4.5.90 returns them for Binance spot) → domain values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.ccxt import parse

BTC_MARKET = {
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "spot": True,
    "active": True,
    "precision": {"amount": 1e-05, "price": 0.01},
    "limits": {"amount": {"min": 1e-05, "max": 9000.0}, "cost": {"min": 5.0, "max": None}},
    "info": {
        "symbol": "BTCUSDT",
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT"],
    },
}

LIMIT_ORDER = {
    "id": "28",
    "clientOrderId": "bot-0001",
    "timestamp": 1733011200000,
    "lastUpdateTimestamp": 1733011260000,
    "symbol": "BTC/USDT",
    "type": "limit",
    "timeInForce": "GTC",
    "postOnly": False,
    "side": "buy",
    "price": 95000.1,
    "triggerPrice": None,
    "amount": 0.003,
    "filled": 0.001,
    "remaining": 0.002,
    "average": 95000.1,
    "status": "open",
    "trades": [
        {
            "id": "1001",
            "timestamp": 1733011260000,
            "symbol": "BTC/USDT",
            "side": "buy",
            "price": 95000.1,
            "amount": 0.001,
            "fee": {"cost": 1e-06, "currency": "BTC"},
            "takerOrMaker": "maker",
        }
    ],
    "info": {"type": "LIMIT", "status": "PARTIALLY_FILLED"},
}


def test_market_binance_steps_become_decimal_steps_and_minimums() -> None:
    # Act
    market = parse.market(BTC_MARKET)

    # Assert
    assert market.qty_step == Decimal("0.00001")
    assert market.price_step == Decimal("0.01")
    assert market.min_notional == Decimal(5)
    assert market.round_qty(Decimal("0.0012345")) == Decimal("0.00123")


def test_order_types_venue_list_maps_to_domain_types() -> None:
    assert parse.order_types(BTC_MARKET) == {
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.MARKET,
        OrderType.STOP_LOSS_LIMIT,
    }


def test_order_partly_filled_open_order_is_partially_filled_with_its_fill() -> None:
    # Act
    order = parse.order(LIMIT_ORDER)

    # Assert
    assert order.client_order_id == "bot-0001"
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.qty == Decimal("0.003")
    assert order.filled_qty == Decimal("0.001")
    assert order.price == Decimal("95000.1")
    assert order.fills[0].fee == Decimal("0.000001")
    assert order.fills[0].is_maker
    assert order.exchange_order_id == "28"


def test_order_stop_limit_type_comes_from_venue_type_not_ccxt_limit() -> None:
    raw = {**LIMIT_ORDER, "filled": 0, "trades": [], "triggerPrice": 90000.0}
    raw["info"] = {"type": "STOP_LOSS_LIMIT"}

    order = parse.order(raw)

    assert order.type is OrderType.STOP_LOSS_LIMIT
    assert order.stop_price == Decimal("90000.0")
    assert order.status is OrderStatus.OPEN


def test_order_cancel_response_keeps_the_requested_client_id() -> None:
    raw = {**LIMIT_ORDER, "clientOrderId": "cancel-req-77", "status": "canceled"}

    order = parse.order(raw, ClientOrderId("bot-0001"))

    assert order.client_order_id == "bot-0001"
    assert order.status is OrderStatus.CANCELED


@pytest.mark.parametrize(
    ("ccxt_status", "expected"),
    [
        ("closed", OrderStatus.FILLED),
        ("expired", OrderStatus.EXPIRED),
        ("rejected", OrderStatus.REJECTED),
    ],
)
def test_order_terminal_ccxt_status_maps_to_domain_status(
    ccxt_status: str, expected: OrderStatus
) -> None:
    assert parse.order({**LIMIT_ORDER, "status": ccxt_status}).status is expected


def test_ticker_mini_ticker_without_bid_ask_falls_back_to_last() -> None:
    ticker = parse.ticker(
        {"symbol": "BTC/USDT", "timestamp": 5, "last": 100.5, "bid": None}, "BTC/USDT"
    )

    assert (ticker.bid, ticker.ask, ticker.last) == (100.5, 100.5, 100.5)


def test_order_book_levels_keep_best_first_order() -> None:
    raw = {
        "bids": [[99.0, 1.0], [98.0, 2.0]],
        "asks": [[101.0, 1.5]],
        "nonce": 42,
        "timestamp": None,
    }

    book = parse.order_book(raw, "BTC/USDT")

    assert book.bids[0].price == 99.0
    assert book.asks[0].qty == 1.5
    assert book.nonce == 42


def test_balances_free_and_used_become_free_and_locked() -> None:
    raw = {"free": {"USDT": 900.5, "BTC": 0.0}, "used": {"USDT": 99.5, "BTC": 0.0}, "total": {}}

    result = parse.balances(raw)

    assert result["USDT"].total == Decimal("1000.0")
    assert result["USDT"].locked == Decimal("99.5")


def test_fill_my_trade_row_uses_given_client_id() -> None:
    row = {
        "id": "7",
        "order": "28",
        "timestamp": 10,
        "symbol": "BTC/USDT",
        "side": "sell",
        "price": 50.5,
        "amount": 2.0,
        "fee": {"cost": 0.101, "currency": "USDT"},
        "takerOrMaker": "taker",
    }

    fill = parse.fill(row, ClientOrderId("bot-9"), "BTC/USDT", OrderSide.SELL)

    assert fill.notional == Decimal("101.0")
    assert fill.fee_asset == "USDT"
    assert not fill.is_maker
