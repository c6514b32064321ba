"""ccxt.pro watches the sandbox's market streams and the spot user-data stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.sandbox import SandboxServer

WAIT_S = 5.0


@pytest.fixture
async def pro(sandbox: SandboxServer) -> AsyncIterator[Any]:
    ex = sandbox_exchange(sandbox.http_url, pro=True)
    ex.enableRateLimit = False
    yield ex
    await ex.close()


async def _watch_after(sandbox: SandboxServer, watch: Callable[[], Any], bars: int = 1) -> Any:
    """Start a watch, wait for its subscription, then advance so an event is pushed."""
    task = asyncio.ensure_future(watch())
    for _ in range(100):
        if any(c.streams or c.user_subscription is not None for c in sandbox.hub.connections):
            break
        await asyncio.sleep(0.02)
    await sandbox.advance(bars)
    return await asyncio.wait_for(task, WAIT_S)


async def test_watch_ticker_receives_mini_ticker_after_advance(
    sandbox: SandboxServer, pro: Any
) -> None:
    ticker = await _watch_after(sandbox, lambda: pro.watch_ticker("BTC/USDT"))
    assert ticker["last"] == pytest.approx(101)
    assert ticker["open"] == pytest.approx(100)


async def test_watch_ticker_full_channel_carries_bid_ask(sandbox: SandboxServer, pro: Any) -> None:
    ticker = await _watch_after(
        sandbox, lambda: pro.watch_ticker("BTC/USDT", params={"name": "ticker"})
    )
    assert ticker["bid"] == pytest.approx(101)


async def test_watch_ohlcv_streams_klines(sandbox: SandboxServer, pro: Any, t0: int) -> None:
    candles = await _watch_after(sandbox, lambda: pro.watch_ohlcv("BTC/USDT", "1m"))
    assert candles[-1][0] in (t0, t0 + 60_000)
    assert candles[0][1] == pytest.approx(100)


async def test_watch_trades_streams_prints(sandbox: SandboxServer, pro: Any) -> None:
    trades = await _watch_after(sandbox, lambda: pro.watch_trades("BTC/USDT"))
    assert trades[0]["price"] == pytest.approx(97)


async def test_watch_bids_asks_streams_book_ticker(sandbox: SandboxServer, pro: Any) -> None:
    quotes = await _watch_after(sandbox, lambda: pro.watch_bids_asks(["BTC/USDT"]))
    assert quotes["BTC/USDT"]["ask"] > 0


async def test_watch_order_book_syncs_with_rest_snapshot(sandbox: SandboxServer, pro: Any) -> None:
    # Act: no advance needed: the sandbox sends one diff after the REST snapshot
    book = await asyncio.wait_for(pro.watch_order_book("BTC/USDT"), WAIT_S)
    await sandbox.advance(1)
    book = await asyncio.wait_for(pro.watch_order_book("BTC/USDT"), WAIT_S)
    # Assert: the local book followed the diffs to the new price
    assert book["bids"][0][0] == pytest.approx(101)
    assert book["asks"][0][0] == pytest.approx(101)


async def test_watch_orders_and_balance_receive_user_events(
    sandbox: SandboxServer, pro: Any
) -> None:
    # Arrange
    orders_task = asyncio.ensure_future(pro.watch_orders("BTC/USDT"))
    balance_task = asyncio.ensure_future(pro.watch_balance())
    for _ in range(100):
        if sum(c.user_subscription is not None for c in sandbox.hub.connections) >= 1:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    # Act
    placed = await pro.create_order("BTC/USDT", "limit", "buy", 1, 90)
    # Assert
    orders = await asyncio.wait_for(orders_task, WAIT_S)
    balance = await asyncio.wait_for(balance_task, WAIT_S)
    assert orders[-1]["id"] == placed["id"]
    assert orders[-1]["status"] == "open"
    assert balance["USDT"]["used"] == pytest.approx(90)


async def test_watch_my_trades_receives_fills(sandbox: SandboxServer, pro: Any) -> None:
    task = asyncio.ensure_future(pro.watch_my_trades("BTC/USDT"))
    for _ in range(100):
        if any(c.user_subscription is not None for c in sandbox.hub.connections):
            break
        await asyncio.sleep(0.02)
    await pro.create_order("BTC/USDT", "market", "buy", 1)
    trades = await asyncio.wait_for(task, WAIT_S)
    assert trades[0]["price"] == pytest.approx(100)
    assert trades[0]["side"] == "buy"
