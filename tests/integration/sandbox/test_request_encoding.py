"""Bytes that are not UTF-8 get Binance's 400 JSON refusal (-1100), never a 500."""

from __future__ import annotations

import aiohttp

from tradebot.sandbox import SandboxServer

_ILLEGAL = {"code": -1100, "msg": "Illegal characters found in a parameter."}


async def test_non_utf8_body_is_refused_with_400_json(sandbox: SandboxServer) -> None:
    headers = {
        "X-MBX-APIKEY": "sandbox-key",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sandbox.http_url}/api/v3/order",
            data=b"symbol=BTCUSDT&newClientOrderId=\xff\xfe&timestamp=1&signature=00",
            headers=headers,
        ) as resp,
    ):
        body = await resp.json()
    assert resp.status == 400
    assert body == _ILLEGAL


async def test_non_utf8_query_is_refused_with_400_json(sandbox: SandboxServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.http_url}/api/v3/klines?symbol=BTC%FFUSDT&interval=1m") as resp,
    ):
        body = await resp.json()
    assert resp.status == 400
    assert body == _ILLEGAL


async def test_the_sandbox_still_serves_after_refusing_bad_bytes(sandbox: SandboxServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sandbox.http_url}/api/v3/depth?symbol=%C3%28") as resp:
            assert (resp.status, await resp.json()) == (400, _ILLEGAL)
        async with session.get(f"{sandbox.http_url}/api/v3/ping") as resp:
            assert resp.status == 200
