"""A deterministic sandbox on generated candles and a CcxtConnector (REST + ccxt.pro) to it."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.stream import StreamSettings
from tradebot.sandbox import SandboxConfig, SandboxServer

SYMBOL = "BTC/USDT"
T0 = 1_733_011_200_000
STEP_MS = 60_000


def write_candles(path: Path, bars: int = 400) -> Path:
    """1m bars: open 95000.25 + 10·i, range ±15, close open + 5."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(bars):
        o = Decimal("95000.25") + 10 * i
        lines.append(f"{T0 + i * STEP_MS},{o},{o + 15},{o - 15},{o + 5},12")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


@asynccontextmanager
async def sandbox_and_connector(
    tmp_path: Path, *, websockets: bool = True, timeout_s: float = 10.0, **sandbox: Any
) -> AsyncIterator[tuple[SandboxServer, CcxtConnector]]:
    """Start the sandbox (extra ``SandboxConfig`` fields in ``sandbox``) and connect to it."""
    config = SandboxConfig(
        port=0,
        data_files={SYMBOL: write_candles(tmp_path / "btc.csv.gz")},
        balances={"USDT": Decimal(100_000)},
        **sandbox,
    )
    async with SandboxServer(config) as server:
        settings = ConnectSettings(
            venue=Venue.SANDBOX,
            sandbox_url=server.http_url,
            websockets=websockets,
            timeout_s=timeout_s,
            runtime_dir=tmp_path,
            retry=RetryPolicy(max_attempts=4, base_delay_s=0.02, max_delay_s=2.0),
            streams=StreamSettings(poll_interval_s=0.1),
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        try:
            yield server, connector
        finally:
            await connector.close()


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait until ``check()`` holds (fail after ``timeout_s``)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.02)
