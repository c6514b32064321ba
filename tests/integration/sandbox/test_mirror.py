"""Mirror mode: sandbox B takes its candles from sandbox A (standing in for Binance) via ccxt.

A replays a generated file and is advanced by the test; B asks A's public REST endpoints
through unmodified ccxt on 127.0.0.1 and walks each bar A reports closed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from processes import eventually
from tradebot.domain.errors import ConfigError, DataError, ExchangeUnavailable
from tradebot.exchange.ccxt.market_source import market_data_source
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.sandbox import SandboxConfig, SandboxServer, run_sandbox_in_thread
from tradebot.sandbox.mirror import MirrorConfig

LABEL = "exchange.sandbox.market_data: binance"
FAST = RetryPolicy(max_attempts=2, base_delay_s=0.005, max_delay_s=0.01)


def mirror_config(url: str, tmp_path: Path, symbol: str = "BTC/USDT") -> SandboxConfig:
    source = market_data_source("binance", url, retry=FAST, runtime_dir=tmp_path / "rt")
    mirror = MirrorConfig(source, (symbol,), "1m", LABEL)
    balances = {"USDT": Decimal(10000), "BTC": Decimal(1)}
    return SandboxConfig(
        port=0, data_files={}, balances=balances, spread_bps=Decimal(0), mirror=mirror
    )


@asynccontextmanager
async def chain(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> AsyncIterator[tuple[SandboxServer, SandboxServer]]:
    async with (
        SandboxServer(make_config(start_index=10)) as source,
        SandboxServer(mirror_config(source.http_url, tmp_path)) as mirror,
    ):
        yield source, mirror


async def klines(server: SandboxServer) -> list[list[Any]]:
    ex = sandbox_exchange(server.http_url)
    ex.enableRateLimit = False
    try:
        return list(await ex.fetch_ohlcv("BTC/USDT", "1m", None, 1000))
    finally:
        await ex.close()


async def test_mirror_serves_the_sources_closed_bars_and_its_forming_open(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange
    async with chain(make_config, tmp_path) as (source, mirror):
        # Act
        served, at_source = await klines(mirror), await klines(source)
        # Assert
        assert served == at_source  # bars 0..9 closed, bar 10 just opened (its open only)
        assert mirror.now_ms == source.now_ms
        assert mirror.current_candle("BTC/USDT") == source.current_candle("BTC/USDT")


async def test_mirror_walks_a_bar_only_once_the_source_has_closed_it(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange
    async with chain(make_config, tmp_path) as (source, mirror):
        forming_ts = mirror.now_ms
        # Act
        still_forming = await mirror.follow_source()
        await source.advance(3)
        walked = await mirror.follow_source()
        # Assert
        assert still_forming == 0
        assert mirror.now_ms == forming_ts + 3 * 60_000
        assert walked == 3
        assert await klines(mirror) == await klines(source)


async def test_mirror_fills_a_resting_order_on_the_closed_bar_by_the_fill_rule(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange: bar 10 opens at 110 and dips to 107; a buy limit at 108 rests in the mirror
    async with chain(make_config, tmp_path) as (source, mirror):
        ex = sandbox_exchange(mirror.http_url)
        ex.enableRateLimit = False
        try:
            order = await ex.create_order("BTC/USDT", "limit", "buy", 0.5, 108)
            bar_ts = mirror.now_ms
            # Act
            await mirror.follow_source()  # bar 10 still forming: nothing happens
            before = await ex.fetch_order(order["id"], "BTC/USDT")
            await source.advance(1)
            await mirror.follow_source()
            after = await ex.fetch_order(order["id"], "BTC/USDT")
            trades = await ex.fetch_my_trades("BTC/USDT")
        finally:
            await ex.close()
        # Assert
        assert before["status"] == "open"
        assert after["status"] == "closed"
        assert [(t["price"], t["amount"], t["timestamp"]) for t in trades] == [(108, 0.5, bar_ts)]


async def test_mirror_refuses_to_be_advanced_by_hand(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    async with chain(make_config, tmp_path) as (_source, mirror):
        with pytest.raises(DataError, match=r"mirrors exchange\.sandbox\.market_data: binance"):
            await mirror.advance(1)


async def test_mirror_of_an_unreachable_source_names_the_setting(tmp_path: Path) -> None:
    # Arrange: a port nothing listens on
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = SandboxServer(mirror_config(f"http://127.0.0.1:{port}", tmp_path))
    # Act / Assert
    with pytest.raises(ExchangeUnavailable, match=r"exchange\.sandbox\.market_data: binance"):
        await server.start()
    await server.stop()


async def test_mirror_of_a_symbol_the_source_lacks_names_the_setting_and_symbol(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    async with SandboxServer(make_config()) as source:
        server = SandboxServer(mirror_config(source.http_url, tmp_path, "DOGE/USDT"))
        with pytest.raises(ConfigError, match=r"market_data: binance.*no spot market DOGE/USDT"):
            await server.start()
        await server.stop()


async def test_mirror_restarted_on_its_snapshot_walks_the_bars_closed_while_it_was_down(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange: a buy limit at 109 rests in the mirror while bar 10 (open 110) is forming
    kept = tmp_path / "account.json"
    async with SandboxServer(make_config(start_index=10)) as source:
        first = mirror_config(source.http_url, tmp_path)
        first.snapshot_path = kept
        async with SandboxServer(first) as mirror:
            ex = sandbox_exchange(mirror.http_url)
            ex.enableRateLimit = False
            try:
                await ex.create_order("BTC/USDT", "limit", "buy", 0.5, 109)
            finally:
                await ex.close()
            bar_ts = mirror.now_ms
        # Act: bars 10 and 11 close while the mirror is down (bar 10 dips to 107)
        await source.advance(2)
        second = mirror_config(source.http_url, tmp_path)
        second.snapshot_path = kept
        async with SandboxServer(second) as mirror:
            walked = await mirror.follow_source()
            ex = sandbox_exchange(mirror.http_url)
            ex.enableRateLimit = False
            try:
                trades = await ex.fetch_my_trades("BTC/USDT")
            finally:
                await ex.close()
            now_ms = mirror.now_ms
    # Assert
    assert walked == 2
    assert [(t["price"], t["amount"], t["timestamp"]) for t in trades] == [(109, 0.5, bar_ts)]
    assert now_ms == source.now_ms


async def test_mirror_of_a_timeframe_the_source_refuses_names_the_setting(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    async with SandboxServer(make_config()) as source:
        config = mirror_config(source.http_url, tmp_path)
        assert config.mirror is not None
        config.mirror.timeframe = "1h"  # the source serves 1m bars only
        server = SandboxServer(config)
        with pytest.raises(ConfigError, match=r"market_data: binance: the source refused to fetch"):
            await server.start()
        await server.stop()


async def test_mirror_waits_out_a_source_outage_then_walks_the_bars_it_missed(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange: the source answers every request 503 while it closes two bars
    async with chain(make_config, tmp_path) as (source, mirror):
        stood_at = mirror.now_ms
        source.faults.update({"error_rate": 1.0})
        await source.advance(2)
        # Act
        with pytest.raises(ExchangeUnavailable, match=r"market_data: binance: cannot fetch"):
            await mirror.follow_source()
        during = mirror.now_ms
        source.faults.update({"error_rate": 0.0})
        walked = await mirror.follow_source()
        # Assert
        assert during == stood_at
        assert walked == 2
        assert await klines(mirror) == await klines(source)


def _admin_state(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/state", timeout=5) as r:
            state: dict[str, Any] = json.load(r)
            return state
    except OSError:  # not listening yet
        return None


def _now_ms(port: int) -> object:
    return (_admin_state(port) or {}).get("now_ms")


def test_cli_sandbox_mirrors_an_exchange_and_follows_its_closes(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange: `tradebot sandbox --market-data binance` in its own process, "Binance" here
    with run_sandbox_in_thread(make_config(start_index=10)) as binance:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        flags = ["--port", str(port), "--market-data", "binance", "--timeframe", "1m"]
        flags += ["--market-data-url", binance.http_url, "--poll-s", "0.05"]
        command = [sys.executable, "-c", "from tradebot.cli import main; main()", "sandbox"]
        log = tmp_path / "out.txt"
        with log.open("w") as out:
            proc = subprocess.Popen([*command, *flags], stdout=out, stderr=subprocess.STDOUT)
        try:
            eventually(lambda: _admin_state(port) is not None, log.read_text)
            # Act: the exchange closes two bars; the mirror polls on its own
            binance.advance_sync(2)
            eventually(lambda: _now_ms(port) == binance.now_ms, log.read_text)
            state = _admin_state(port)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    # Assert
    assert state is not None
    assert state["market_data"] == f"--market-data binance --market-data-url {binance.http_url}"
    assert "prices from --market-data binance" in log.read_text()


async def test_mirror_never_acts_on_the_forming_candle_however_it_moves(
    make_config: Callable[..., SandboxConfig], tmp_path: Path
) -> None:
    # Arrange: a sell limit at 110.15 rests in the mirror; bar 10 opened at 110
    async with chain(make_config, tmp_path) as (source, mirror):
        ex = sandbox_exchange(mirror.http_url)
        at_source = sandbox_exchange(source.http_url)
        for client in (ex, at_source):
            client.enableRateLimit = False
        try:
            order = await ex.create_order("BTC/USDT", "limit", "sell", 0.5, 110.15)
            # Act: a big buy at the source trades its forming bar up through 110.15
            await at_source.create_order("BTC/USDT", "market", "buy", 20)
            forming_at_source = source.current_candle("BTC/USDT")
            walked = await mirror.follow_source()
            still = await ex.fetch_order(order["id"], "BTC/USDT")
        finally:
            await ex.close()
            await at_source.close()
        # Assert
        assert forming_at_source.high > 110.15
        assert walked == 0
        assert still["status"] == "open"
        assert mirror.current_candle("BTC/USDT").high == 110
