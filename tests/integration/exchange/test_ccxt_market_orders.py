"""A market order's minimum-notional check against canned Binance replies over loopback: the
price the poll just read (the newest candle's close) values it, so no ticker request stands
between the decision and the order; without a recent price the ticker is asked, as before."""

from __future__ import annotations

from decimal import Decimal

import pytest
from canned_binance import NOW_MS, CannedBinance, Reply

from tradebot.domain import errors as domain
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderType
from tradebot.exchange.ccxt.connector import CcxtConnector

ORDER = "/api/v3/order"
TICKER = "/api/v3/ticker/24hr"
KLINES = "/api/v3/klines"


def _market_buy(qty: str) -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId("bot-0001"), "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal(qty)
    )


def _klines(last_close: str) -> Reply:
    """Two 1m candles, the newest (still forming) closing at ``last_close``."""
    rows = [
        [NOW_MS - 120_000 + k * 60_000, "90000", "90010", "89990", close, "1.5",
         NOW_MS - 60_001 + k * 60_000, "0", 10, "0", "0", "0"]
        for k, close in enumerate(("90000.00", last_close))
    ]  # fmt: skip
    return Reply(200, rows)


async def test_market_order_after_the_candles_sends_no_ticker_request(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("GET", KLINES, _klines("90000.00"))
    await connector.fetch_ohlcv("BTC/USDT", "1m", limit=2)

    await connector.create_order(_market_buy("0.001"))

    assert canned.sent("GET", TICKER) == []
    assert [p["newClientOrderId"] for p in canned.sent("POST", ORDER)] == ["bot-0001"]


async def test_market_order_below_min_notional_at_the_candles_close_refused_before_sending(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("GET", KLINES, _klines("100.00"))  # 0.01 x 100 = 1 USDT, minimum 5
    await connector.fetch_ohlcv("BTC/USDT", "1m", limit=2)

    with pytest.raises(domain.InvalidOrder, match="below the minimum notional 5"):
        await connector.create_order(_market_buy("0.01"))

    assert canned.sent("POST", ORDER) == []
    assert canned.sent("GET", TICKER) == []


async def test_market_order_without_a_recent_price_asks_the_ticker(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("GET", KLINES, _klines("100.00"))
    await connector.fetch_ohlcv("BTC/USDT", "1m", limit=2)
    connector.reference_max_age_s = 0.0  # the candles' close is too old to value an order

    await connector.create_order(_market_buy("0.01"))  # 0.01 x 90,000 (the ticker): enough

    assert len(canned.sent("GET", TICKER)) == 1
    assert len(canned.sent("POST", ORDER)) == 1
