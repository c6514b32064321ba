"""Fixtures: a deterministic sandbox on a free port over a small generated candle file."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.sandbox import SandboxConfig, SandboxServer

T0 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000  # a minute boundary
BARS = 50


def bar(i: int) -> tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """Bar i of the test file: open 100+i, high open+3, low open-3, close open+0.5."""
    o = Decimal(100 + i)
    return (T0 + i * 60_000, o, o + 3, o - 3, o + Decimal("0.5"), Decimal(10))


def write_candles(path: Path, bars: int = BARS) -> Path:
    """Write the normalized gzip CSV the sandbox replays."""
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [",".join(str(v) for v in bar(i)) for i in range(bars)]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


@pytest.fixture
def candles(tmp_path: Path) -> Path:
    return write_candles(tmp_path / "btc_1m.csv.gz")


@pytest.fixture
def long_candles(tmp_path: Path) -> Callable[[int], Path]:
    """Write a test file of more bars than the default (for tests that need > 1000 bars)."""
    return lambda bars: write_candles(tmp_path / f"btc_1m_{bars}.csv.gz", bars)


@pytest.fixture
def make_config(candles: Path) -> Callable[..., SandboxConfig]:
    def make(**overrides: Any) -> SandboxConfig:
        settings: dict[str, Any] = {
            "port": 0,
            "data_files": {"BTC/USDT": candles},
            "balances": {"USDT": Decimal(10000), "BTC": Decimal(1)},
            "spread_bps": Decimal(0),
            "depth_step_bps": Decimal(10),
            "depth_levels": 5,
            "level_notional": Decimal(1000),
        }
        settings.update(overrides)
        return SandboxConfig(**settings)

    return make


@pytest.fixture
async def sandbox(make_config: Callable[..., SandboxConfig]) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(make_config()) as server:
        yield server


@pytest.fixture
async def start_sandbox(
    make_config: Callable[..., SandboxConfig],
) -> AsyncIterator[Callable[..., Awaitable[SandboxServer]]]:
    started: list[SandboxServer] = []

    async def start(**overrides: Any) -> SandboxServer:
        server = SandboxServer(make_config(**overrides))
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def exchange(sandbox: SandboxServer) -> AsyncIterator[Any]:
    ex = sandbox_exchange(sandbox.http_url)
    ex.enableRateLimit = False
    yield ex
    await ex.close()


@pytest.fixture
async def make_exchange() -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(server: SandboxServer, **kwargs: Any) -> Any:
        ex = sandbox_exchange(server.http_url, **kwargs)
        ex.enableRateLimit = False
        made.append(ex)
        return ex

    yield make
    for ex in made:
        await ex.close()


@pytest.fixture
def t0() -> int:
    """Open time of the first bar of the test file."""
    return T0
