"""Fixtures: a canned Binance peer and a CcxtConnector talking to it over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from canned_binance import API_KEY, API_SECRET, CannedBinance

from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials, Redactor
from tradebot.exchange.ccxt.ratelimit import SharedRateLimiter
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange


@pytest.fixture
async def canned() -> AsyncIterator[CannedBinance]:
    async with CannedBinance() as server:
        yield server


@pytest.fixture
async def connector(canned: CannedBinance, tmp_path: Path) -> AsyncIterator[CcxtConnector]:
    exchange = sandbox_exchange(canned.http_url, api_key=API_KEY, api_secret=API_SECRET)
    exchange.timeout = 1500
    conn = CcxtConnector(
        exchange,
        limiter=SharedRateLimiter(tmp_path / "rl.json"),
        retry=RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05),
        redactor=Redactor.of(Credentials(API_KEY, API_SECRET)),
        lookup_delay_s=0.01,
    )
    yield conn
    await conn.close()
