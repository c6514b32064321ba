"""The ``services:`` settings are acted on by what ``tradebot serve`` builds from them.

``services.bus`` maxlen and prefix on a real redis-server; claim_idle_s by a consumer group
in memory; the market-data service's poll_interval_s and websocket against the sandbox.
Each test fails if its setting were ignored (the default would not do what it checks).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis

from paper_venue import sandbox
from redis_server import RedisServer
from tradebot.config import Config, load_config
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.factory import connect, settings_from_config
from tradebot.sandbox import SandboxServer
from tradebot.services.assembly import bus_consumer, market_data_service, redis_bus
from tradebot.services.bus import Envelope, Family, MemoryBus
from tradebot.services.market_data import MarketDataService


async def test_services_bus_maxlen_and_prefix_trim_the_stream_the_config_names(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: a bus that keeps about 1,000 messages a stream, under its own prefix.
    monkeypatch.setenv("TRADEBOT_REDIS_PASSWORD", redis_server.password)
    path = tmp_path / "config.yaml"
    path.write_text(
        "services:\n  bus:\n"
        f"    url: redis://127.0.0.1:{redis_server.port}/0\n"
        "    password: ${TRADEBOT_REDIS_PASSWORD}\n"
        "    prefix: trimtest\n"
        "    maxlen: 1000\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    bus = redis_bus(load_config(path))
    # Act: three times as many messages (the default, 100,000, would keep them all).
    try:
        for n in range(3_000):
            await bus.publish(Envelope(Family.ALERTS, "Test", {"n": n}, "test", n))
    finally:
        await bus.close()
    # Assert: trimmed to about maxlen (MAXLEN ~ trims whole nodes, never below it).
    client = redis.Redis(port=redis_server.port, password=redis_server.password)
    length = client.xlen("trimtest:alerts")
    client.close()
    assert 1_000 <= length < 2_000


def services_config(tmp_path: Path, yaml: str) -> Config:
    """A paper config on the sandbox at ``port`` (none embedded) with a ``services:`` section."""
    path = tmp_path / "services.yaml"
    path.write_text(yaml, encoding="utf-8")
    return load_config(path)


def _alert(n: int) -> Envelope:
    return Envelope(Family.ALERTS, "Test", {"n": n}, "test", n, event_id=f"alert-{n}")


async def test_services_bus_claim_idle_s_is_how_long_before_a_dead_consumers_message_is_taken(
    tmp_path: Path,
) -> None:
    # Arrange: a message read by a consumer that died with it; a live consumer of the same
    # group built from a config that takes over after 0.2 s (the default waits 30 s)
    config = services_config(tmp_path, "services:\n  bus:\n    claim_idle_s: 0.2\n")
    bus = MemoryBus()
    await bus.publish(_alert(1))
    await bus.read(Family.ALERTS, "monitor", "dead", count=10, block_ms=0)
    acted: list[str] = []

    async def act(envelope: Envelope) -> None:
        acted.append(envelope.event_id)

    alive = bus_consumer(config, bus, Family.ALERTS, "monitor", "alive", act)
    # Act
    async with asyncio.timeout(5):
        while not acted:
            await alive.poll()
    # Assert
    assert acted == ["alert-1"]
    assert await bus.pending(Family.ALERTS, "monitor") == []


PAPER = """\
exchange:
  mode: paper
  sandbox: {{embedded: false, host: 127.0.0.1, port: {port}}}
services:
  market_data: {{poll_interval_s: {poll}, websocket: {ws}}}
"""


async def _market_data(
    tmp_path: Path, venue: SandboxServer, poll: float, ws: bool
) -> tuple[MarketDataService, CcxtConnector, MemoryBus]:
    port = int(venue.http_url.rsplit(":", 1)[1].split("/")[0])
    text = PAPER.format(port=port, poll=poll, ws=str(ws).lower())
    config = services_config(tmp_path, text)
    settings = settings_from_config(config, websockets=ws, runtime_dir=tmp_path)
    connector = connect(settings, public_only=True)  # candles are public
    bus = MemoryBus()
    return market_data_service(config, connector, bus, "sandbox"), connector, bus


async def test_services_market_data_poll_interval_s_is_how_often_it_asks(tmp_path: Path) -> None:
    # Arrange: a poll every 0.05 s (the default asks every 5 s)
    async with sandbox() as venue:
        service, connector, _ = await _market_data(tmp_path, venue, 0.05, ws=False)
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        # Act
        try:
            async with asyncio.timeout(4):
                while service.counts.polls < 4:  # noqa: ASYNC110 (the service's own loop counts)
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await running
            await connector.close()
    # Assert
    assert service.counts.polls >= 4
    assert service.counts.published == 1  # the newest closed bar, once


def kline_subscribed(venue: SandboxServer) -> bool:
    """A websocket client listens to the venue's candles (pushed only to subscribers)."""
    return any("kline" in s for c in venue.hub.connections for s in c.streams)


async def test_services_market_data_websocket_wakes_the_poll_when_a_bar_closes(
    tmp_path: Path,
) -> None:
    # Arrange: a poll every 300 s, woken by the candle stream
    async with sandbox() as venue:
        service, connector, bus = await _market_data(tmp_path, venue, 300, ws=True)
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        try:
            async with asyncio.timeout(10):
                while service.counts.published < 1 or not kline_subscribed(venue):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                # Act: the next bar closes at the venue
                await venue.advance(1)
                while service.counts.published < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await running
            await connector.close()
    # Assert: published long before the next poll was due
    assert service.counts.polls == 2
    assert await bus.length(Family.MARKET_DATA) == 2
