"""``limit`` answers as on Binance spot: above the maximum it is clamped, 0 and negatives are
refused (docs/sandbox.md, "Binance's rules, and where the sandbox differs", has the sources)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import pytest

from tradebot.sandbox import SandboxServer

_NEGATIVE = {
    "code": -1100,
    "msg": "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
}
_ZERO = {
    "code": -1102,
    "msg": "Mandatory parameter 'limit' was not sent, was empty/null, or malformed.",
}
_PUBLIC = (
    "depth?symbol=BTCUSDT",
    "klines?symbol=BTCUSDT&interval=1m",
    "aggTrades?symbol=BTCUSDT",
)


async def _get(server: SandboxServer, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.http_url}/api/v3/{path}") as resp,
    ):
        return resp.status, await resp.json()


@pytest.mark.parametrize("path", _PUBLIC)
@pytest.mark.parametrize(("limit", "refusal"), [("-1", _NEGATIVE), ("0", _ZERO), ("x", _NEGATIVE)])
async def test_public_limit_zero_or_negative_is_refused(
    sandbox: SandboxServer, path: str, limit: str, refusal: dict[str, object]
) -> None:
    assert await _get(sandbox, f"{path}&limit={limit}") == (400, refusal)


async def test_depth_limit_above_5000_is_clamped_not_refused(sandbox: SandboxServer) -> None:
    status, book = await _get(sandbox, "depth?symbol=BTCUSDT&limit=6000")
    assert status == 200
    assert len(book["bids"]) == 5  # every level of the 5-level test book


async def test_klines_limit_above_1000_returns_the_newest_1000(
    start_sandbox: Callable[..., Awaitable[SandboxServer]], long_candles: Callable[[int], Path]
) -> None:
    # Arrange: 1100 bars, the clock on the last one
    candles = long_candles(1100)
    server = await start_sandbox(data_files={"BTC/USDT": candles}, start_index=1099)
    # Act
    status, rows = await _get(server, "klines?symbol=BTCUSDT&interval=1m&limit=5000")
    # Assert
    assert status == 200
    assert len(rows) == 1000
    assert rows[-1][0] == server.now_ms


@pytest.mark.parametrize("endpoint", ["private_get_mytrades", "private_get_allorders"])
@pytest.mark.parametrize(("limit", "code"), [("-1", "-1100"), ("0", "-1102")])
async def test_signed_limit_zero_or_negative_is_refused(
    exchange: Any, endpoint: str, limit: str, code: str
) -> None:
    with pytest.raises(ccxt.BadRequest, match=code):
        await getattr(exchange, endpoint)({"symbol": "BTCUSDT", "limit": limit})


async def test_my_trades_limit_above_1000_is_clamped(exchange: Any) -> None:
    await exchange.create_order("BTC/USDT", "market", "buy", 1)
    trades = await exchange.private_get_mytrades({"symbol": "BTCUSDT", "limit": "5000"})
    assert len(trades) == 1
