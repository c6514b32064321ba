"""``services.bus`` settings reach the Redis bus ``tradebot serve`` builds (real redis-server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from redis_server import RedisServer
from tradebot.config import load_config
from tradebot.services.assembly import redis_bus
from tradebot.services.bus import Envelope, Family


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
