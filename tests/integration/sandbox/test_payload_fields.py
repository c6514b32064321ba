"""The sandbox's payloads carry every field of Binance's own payloads for the same calls.

The expected key sets are copied by hand from Binance's spot API documentation (REST and
websocket streams) and shared/notes/ccxt-against-local-binance.md; extra keys are allowed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.sandbox import SandboxServer

TICKER_24HR = {
    "symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "prevClosePrice",
    "lastPrice", "lastQty", "bidPrice", "bidQty", "askPrice", "askQty", "openPrice", "highPrice",
    "lowPrice", "volume", "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count",
}  # fmt: skip
EXCHANGE_INFO_SYMBOL = {
    "symbol", "status", "baseAsset", "baseAssetPrecision", "quoteAsset", "quotePrecision",
    "quoteAssetPrecision", "orderTypes", "icebergAllowed", "ocoAllowed",
    "quoteOrderQtyMarketAllowed", "allowTrailingStop", "cancelReplaceAllowed",
    "isSpotTradingAllowed", "isMarginTradingAllowed", "filters", "permissions",
    "defaultSelfTradePreventionMode", "allowedSelfTradePreventionModes",
}  # fmt: skip
ACCOUNT = {
    "makerCommission", "takerCommission", "buyerCommission", "sellerCommission",
    "commissionRates", "canTrade", "canWithdraw", "canDeposit", "brokered",
    "requireSelfTradePrevention", "preventSor", "updateTime", "accountType", "balances",
    "permissions", "uid",
}  # fmt: skip
ORDER_FULL = {
    "symbol", "orderId", "orderListId", "clientOrderId", "transactTime", "price", "origQty",
    "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status", "timeInForce", "type",
    "side", "workingTime", "selfTradePreventionMode", "fills",
}  # fmt: skip
FILL = {"price", "qty", "commission", "commissionAsset", "tradeId"}
ORDER_QUERY = {
    "symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty", "executedQty",
    "cummulativeQuoteQty", "status", "timeInForce", "type", "side", "stopPrice", "icebergQty",
    "time", "updateTime", "isWorking", "workingTime", "origQuoteOrderQty",
    "selfTradePreventionMode",
}  # fmt: skip
ORDER_CANCEL = {
    "symbol", "origClientOrderId", "orderId", "orderListId", "clientOrderId", "transactTime",
    "price", "origQty", "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type",
    "side", "selfTradePreventionMode",
}  # fmt: skip
MY_TRADE = {
    "symbol", "id", "orderId", "orderListId", "price", "qty", "quoteQty", "commission",
    "commissionAsset", "time", "isBuyer", "isMaker", "isBestMatch",
}  # fmt: skip
AGG_TRADE = {"a", "p", "q", "f", "l", "T", "m", "M"}
EXECUTION_REPORT = {
    "e",
    "E",
    "s",
    "c",
    "S",
    "o",
    "f",
    "q",
    "p",
    "P",
    "F",
    "g",
    "C",
    "x",
    "X",
    "r",
    "i",
    "l",
    "z",
    "L",
    "n",
    "N",
    "T",
    "t",
    "w",
    "m",
    "O",
    "Z",
    "Q",
    "W",
}
WS_STREAMS = {
    "btcusdt@kline_1m": {"e", "E", "s", "k"},
    "btcusdt@miniTicker": {"e", "E", "s", "c", "o", "h", "l", "v", "q"},
    "btcusdt@ticker": {
        "e",
        "E",
        "s",
        "p",
        "P",
        "w",
        "x",
        "c",
        "Q",
        "b",
        "B",
        "a",
        "A",
        "o",
        "h",
        "l",
        "v",
        "q",
        "O",
        "C",
        "F",
        "L",
        "n",
    },
    "btcusdt@bookTicker": {"u", "s", "b", "B", "a", "A"},
    "btcusdt@depth": {"e", "E", "s", "U", "u", "b", "a"},
    "btcusdt@trade": {"e", "E", "s", "t", "p", "q", "T", "m", "M"},
    "btcusdt@aggTrade": {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"},
}
KLINE = {"t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}


def _missing(expected: set[str], payload: dict[str, Any]) -> set[str]:
    return expected - set(payload)


async def test_rest_payloads_carry_binance_fields(sandbox: SandboxServer, exchange: Any) -> None:
    # Arrange
    markets = await exchange.load_markets()
    await sandbox.advance(1)
    # Act
    ticker = (await exchange.fetch_ticker("BTC/USDT"))["info"]
    account = (await exchange.fetch_balance())["info"]
    market_order = (await exchange.create_order("BTC/USDT", "market", "buy", 1))["info"]
    limit = await exchange.create_order("BTC/USDT", "limit", "buy", 1, 90)
    queried = (await exchange.fetch_order(limit["id"], "BTC/USDT"))["info"]
    canceled = (await exchange.cancel_order(limit["id"], "BTC/USDT"))["info"]
    trade = (await exchange.fetch_my_trades("BTC/USDT"))[0]["info"]
    agg = (await exchange.fetch_trades("BTC/USDT"))[0]["info"]
    ohlcv = await exchange.fetch_ohlcv("BTC/USDT", "1m")
    # Assert
    assert _missing(EXCHANGE_INFO_SYMBOL, markets["BTC/USDT"]["info"]) == set()
    assert _missing(TICKER_24HR, ticker) == set()
    assert _missing(ACCOUNT, account) == set()
    assert _missing(ORDER_FULL, market_order) == set()
    assert _missing(FILL, market_order["fills"][0]) == set()
    assert _missing(ORDER_QUERY, queried) == set()
    assert _missing(ORDER_CANCEL, canceled) == set()
    assert _missing(MY_TRADE, trade) == set()
    assert _missing(AGG_TRADE, agg) == set()
    assert "code" not in market_order
    assert {len(row) for row in ohlcv} == {6}


async def test_stream_payloads_carry_binance_fields(sandbox: SandboxServer) -> None:
    # Arrange
    url = f"{sandbox.ws_url.removesuffix('/ws')}?streams={'/'.join(WS_STREAMS)}"
    seen: dict[str, dict[str, Any]] = {}
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await sandbox.advance(1)
        # Act
        while set(seen) != set(WS_STREAMS):
            message = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
            seen.setdefault(message["stream"], message["data"])
    # Assert
    for stream, expected in WS_STREAMS.items():
        assert _missing(expected, seen[stream]) == set(), stream
    assert _missing(KLINE, seen["btcusdt@kline_1m"]["k"]) == set()


async def test_user_stream_payloads_carry_binance_fields(sandbox: SandboxServer) -> None:
    pro = sandbox_exchange(sandbox.http_url, pro=True)
    try:
        task = asyncio.ensure_future(pro.watch_orders("BTC/USDT"))
        for _ in range(100):
            if any(c.user_subscription is not None for c in sandbox.hub.connections):
                break
            await asyncio.sleep(0.02)
        await pro.create_order("BTC/USDT", "limit", "buy", 1, 90)
        orders = await asyncio.wait_for(task, 5)
    finally:
        await pro.close()
    assert _missing(EXECUTION_REPORT, orders[0]["info"]) == set()
