"""Binance's auth errors, weights, 429/418 and injected faults, as ccxt exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import ccxt
import pytest

from tradebot.sandbox import SandboxServer

StartSandbox = Callable[..., Awaitable[SandboxServer]]


async def test_timestamp_outside_recv_window_raises_invalid_nonce(exchange: Any) -> None:
    exchange.options["timeDifference"] = 30_000  # the client's clock is 30 s behind
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await exchange.fetch_balance()


async def test_bad_signature_raises_authentication_error(
    sandbox: SandboxServer, make_exchange: Callable[..., Any]
) -> None:
    ex = make_exchange(sandbox, api_secret="wrong-secret")
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await ex.fetch_balance()


async def test_bad_api_key_raises_authentication_error(
    sandbox: SandboxServer, make_exchange: Callable[..., Any]
) -> None:
    ex = make_exchange(sandbox, api_key="wrong-key")
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await ex.fetch_balance()


async def test_missing_api_key_is_refused_with_2014(sandbox: SandboxServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.http_url}/api/v3/account?timestamp=1&signature=x") as resp,
    ):
        body = await resp.json()
    assert resp.status == 401
    assert body["code"] == -2014


async def test_used_weight_header_counts_the_minute(sandbox: SandboxServer) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.get(f"{sandbox.http_url}/api/v3/exchangeInfo") as resp:
                used = resp.headers["X-MBX-USED-WEIGHT-1M"]
    assert used == "40"


async def test_ignored_429s_end_in_a_418_ban(start_sandbox: StartSandbox) -> None:
    # Arrange: 45 weight a minute; exchangeInfo costs 20
    server = await start_sandbox(weight_limit_1m=45, calls_before_ban=2, ban_s=60)
    url = f"{server.http_url}/api/v3/exchangeInfo"
    statuses: list[int] = []
    retry_after: list[str] = []
    # Act
    async with aiohttp.ClientSession() as session:
        for _ in range(6):
            async with session.get(url) as resp:
                statuses.append(resp.status)
                retry_after.append(resp.headers.get("Retry-After", ""))
    # Assert
    assert statuses == [200, 200, 429, 429, 429, 418]
    assert retry_after[2].isdigit()
    assert int(retry_after[5]) > 50


async def test_429_and_418_raise_ddos_protection_in_ccxt(
    start_sandbox: StartSandbox, make_exchange: Callable[..., Any]
) -> None:
    server = await start_sandbox(weight_limit_1m=21, calls_before_ban=1)
    ex = make_exchange(server)
    await ex.load_markets()
    raised = []
    for _ in range(3):
        with pytest.raises(ccxt.DDoSProtection) as info:
            await ex.fetch_ticker("BTC/USDT")
        raised.append(str(info.value)[:12])
    assert raised == ["binance 429 ", "binance 429 ", "binance 418 "]


async def test_error_rate_fault_raises_operation_failed(
    start_sandbox: StartSandbox, make_exchange: Callable[..., Any]
) -> None:
    server = await start_sandbox()
    ex = make_exchange(server)
    await ex.load_markets()
    server.faults.update({"error_rate": 1.0})
    with pytest.raises(ccxt.OperationFailed, match="-1001"):
        await ex.fetch_ticker("BTC/USDT")


async def test_maintenance_window_raises_on_maintenance(
    start_sandbox: StartSandbox, make_exchange: Callable[..., Any]
) -> None:
    server = await start_sandbox()
    ex = make_exchange(server)
    await ex.load_markets()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.http_url}/admin/faults", json={"maintenance_s": 60}) as resp,
    ):
        assert resp.status == 200
    with pytest.raises(ccxt.OnMaintenance):
        await ex.fetch_ticker("BTC/USDT")


async def test_timeout_fault_raises_request_timeout(
    start_sandbox: StartSandbox, make_exchange: Callable[..., Any]
) -> None:
    server = await start_sandbox()
    ex = make_exchange(server)
    ex.timeout = 300
    await ex.load_markets()
    server.faults.update({"timeout_rate": 1.0, "hang_s": 2})
    with pytest.raises(ccxt.RequestTimeout):
        await ex.fetch_ticker("BTC/USDT")


async def test_ambiguous_timeout_creates_the_order_but_loses_the_answer(
    start_sandbox: StartSandbox, make_exchange: Callable[..., Any]
) -> None:
    # Arrange
    server = await start_sandbox()
    ex = make_exchange(server)
    ex.timeout = 300
    await ex.load_markets()
    server.faults.update({"ambiguous_timeout_rate": 1.0, "hang_s": 2})
    # Act
    with pytest.raises(ccxt.RequestTimeout):
        await ex.create_order("BTC/USDT", "limit", "buy", 1, 90, params={"clientOrderId": "amb-1"})
    server.faults.update({"ambiguous_timeout_rate": 0.0})
    # Assert: the order exists, and a retry with the same id is refused
    order = await ex.fetch_order(None, "BTC/USDT", params={"clientOrderId": "amb-1"})
    assert order["status"] == "open"
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await ex.create_order("BTC/USDT", "limit", "buy", 1, 90, params={"clientOrderId": "amb-1"})


async def _shock(sandbox: SandboxServer, pct: int) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox.http_url}/admin/faults", json={"price_shock_pct": pct}) as resp,
    ):
        assert resp.status == 200


async def test_price_shock_gaps_through_a_stop_limit_filling_it_at_the_crash_price(
    sandbox: SandboxServer, exchange: Any, t0: int
) -> None:
    # Arrange: a stop far below the bar's own low (97), its limit at the crash price
    await exchange.create_order("BTC/USDT", "limit", "sell", 1, 80, params={"stopLossPrice": 85})
    await _shock(sandbox, 20)
    # Act
    await sandbox.advance(1)
    # Assert: the bar's low shows the crash; the price jumped past the stop, so the stop
    # sold where the market was (80), as taker, not at its stop price
    rows = await exchange.fetch_ohlcv("BTC/USDT", "1m", since=t0, limit=1)
    assert rows[0][3] == pytest.approx(80)
    trades = await exchange.fetch_my_trades("BTC/USDT")
    assert [(t["price"], t["takerOrMaker"], t["timestamp"]) for t in trades] == [
        (pytest.approx(80), "taker", t0)
    ]


async def test_price_shock_past_a_stop_limits_limit_rests_it_as_a_limit(
    sandbox: SandboxServer, exchange: Any, t0: int
) -> None:
    # Arrange: stop 85, limit 84; the crash jumps from 100 to 80, past both
    await exchange.create_order("BTC/USDT", "limit", "sell", 1, 84, params={"stopLossPrice": 85})
    await _shock(sandbox, 20)
    # Act
    await sandbox.advance(1)
    # Assert: nothing sold at the stop price; the order rested as a limit at 84 and sold
    # there, as maker, when the bar climbed back to its high (103)
    trades = await exchange.fetch_my_trades("BTC/USDT")
    assert [(t["price"], t["takerOrMaker"]) for t in trades] == [(pytest.approx(84), "maker")]


async def test_ws_disconnect_fault_raises_network_error(
    sandbox: SandboxServer, make_exchange: Callable[..., Any]
) -> None:
    pro = make_exchange(sandbox, pro=True)
    first = asyncio.ensure_future(pro.watch_ticker("BTC/USDT"))
    for _ in range(100):
        if any(c.streams for c in sandbox.hub.connections):
            break
        await asyncio.sleep(0.02)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox.http_url}/admin/faults", json={"disconnect_ws": True}) as resp,
    ):
        assert (await resp.json())["ws_dropped"] == 1
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(first, 5)


async def test_admin_faults_rejects_unknown_fields(sandbox: SandboxServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sandbox.http_url}/admin/faults", json={"chaos": 1}) as resp,
    ):
        body = await resp.json()
    assert resp.status == 400
    assert "unknown fault 'chaos'" in body["error"]
