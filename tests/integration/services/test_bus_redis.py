"""The bus against a real redis-server: dead consumers, a restarted server, the password.

The consumers killed here are real processes (``consumer_process.py``) killed with SIGKILL
at the two points that matter: after reading a message but before acting on it, and after
acting (effect and event id committed together) but before acknowledging it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from processes import eventually
from redis_server import RedisServer
from tradebot.services.bus import (
    BusConsumer,
    BusError,
    BusUnavailable,
    Envelope,
    Family,
    MemoryProcessedIds,
)
from tradebot.services.bus.redis_processed import RedisProcessedIds
from tradebot.services.bus.redis_streams import RedisStreamsBus

SCRIPT = Path(__file__).with_name("consumer_process.py")
SIG = Family.SIGNALS


def _signal(n: int) -> Envelope:
    return Envelope(SIG, "Signal", {"n": n}, "strategy", created_ms=n, event_id=f"sig-{n}")


async def _publish(server: RedisServer, prefix: str, numbers: range) -> None:
    bus = RedisStreamsBus(server.settings(prefix))
    for n in numbers:
        await bus.publish(_signal(n))
    await bus.close()


@contextmanager
def _consumer(
    server: RedisServer, prefix: str, name: str, db: Path, pause: tuple[str, str] = ("", "")
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = db.with_name(f"{name}.log")
    env = {
        **os.environ,
        "BUS_REDIS_PASSWORD": server.password,
        "BUS_PAUSE_AT": pause[0],
        "BUS_PAUSE_EVENT": pause[1],
    }
    command = [sys.executable, str(SCRIPT), str(server.port), prefix, name, str(db)]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _kill_when_paused(proc: subprocess.Popen[bytes], log: Path, point: str) -> None:
    eventually(lambda: point in log.read_text(), log.read_text)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_bus_consumer_killed_between_read_and_ack_event_acted_on_exactly_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    # Arrange: five signals waiting for the execution group
    prefix, db = f"k{uuid.uuid4().hex[:8]}", tmp_path / "effects.db"
    asyncio.run(_publish(redis_server, prefix, range(1, 6)))

    # Act: a acts on sig-3 and dies before acknowledging it; b takes over the rest and dies
    # before acting on sig-4; c takes over what is left
    with _consumer(redis_server, prefix, "exec-a", db, ("before_ack", "sig-3")) as (a, log_a):
        _kill_when_paused(a, log_a, "paused before_ack sig-3")
    with _consumer(redis_server, prefix, "exec-b", db, ("before_effect", "sig-4")) as (b, log_b):
        _kill_when_paused(b, log_b, "paused before_effect sig-4")
    with _consumer(redis_server, prefix, "exec-c", db) as (_, log_c):
        eventually(lambda: "handled=2" in log_c.read_text(), log_c.read_text)
    with redis_server.client() as client:
        pending = client.xpending(f"{prefix}:signals", "execution")["pending"]

    # Assert: every signal acted on once; sig-3's redelivery was recognised, sig-4's acted on
    with sqlite3.connect(db) as conn:
        effects = conn.execute(
            "SELECT event_id, consumer FROM effects ORDER BY event_id"
        ).fetchall()
    assert effects == [
        ("sig-1", "exec-a"),
        ("sig-2", "exec-a"),
        ("sig-3", "exec-a"),
        ("sig-4", "exec-c"),
        ("sig-5", "exec-c"),
    ]
    assert "already acted on sig-3" in log_b.read_text()
    assert pending == 0


async def test_bus_redis_restarted_mid_run_consumer_reconnects_nothing_lost(
    tmp_path: Path,
) -> None:
    # Arrange: a server of its own (it is killed); a consumer running throughout
    server = RedisServer(tmp_path)
    server.start()
    publisher = RedisStreamsBus(server.settings("r", max_backoff_s=0.2))
    acted: list[str] = []

    async def act(envelope: Envelope) -> None:
        acted.append(envelope.event_id)

    consumer = BusConsumer(
        RedisStreamsBus(server.settings("r", max_backoff_s=0.2)),
        SIG,
        "execution",
        "e",
        act,
        MemoryProcessedIds(),
        block_ms=100,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        with capture_logs() as logs:
            for n in range(100):
                await publisher.publish(_signal(n))
            await _until(lambda: len(acted) == 100)

            # Act: SIGKILL the server while the consumer waits on it (once the messages are in
            # its file: a stalled disk may hold them back up to 2 s); publish while it is down
            server.wait_written()
            server.kill()
            await _until(lambda: any(e["event"] == "redis unavailable, retrying" for e in logs))
            during = asyncio.create_task(publisher.publish(_signal(100)))
            await _until(lambda: any(e.get("op") == "XADD" for e in logs))  # it retries too
            server.start()
            await during
            for n in range(101, 200):
                await publisher.publish(_signal(n))
            await _until(lambda: len(acted) == 200)
    finally:
        stop.set()
        await running
        await publisher.close()
        await consumer.bus.close()
        server.stop()

    # Assert: every message XADD acknowledged before the kill survived (AOF, everysec); each
    # acted on once; the outage was logged without the password
    assert sorted(acted) == sorted(f"sig-{n}" for n in range(200))
    assert await _length(server, tmp_path) == 200
    assert any(e["event"] == "redis reachable again" for e in logs)
    assert server.password not in repr(logs)


async def _until(check: object, timeout_s: float = 20.0) -> None:
    assert callable(check)
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110  (state another task changes; no event to wait on)
            await asyncio.sleep(0.02)


async def _length(server: RedisServer, directory: Path) -> int:
    server.start()  # once more, from the append-only file alone
    try:
        with server.client() as client:
            return int(client.xlen("r:signals"))
    finally:
        server.stop()


async def test_bus_wrong_password_is_refused_without_revealing_it(
    redis_server: RedisServer,
) -> None:
    # Arrange
    wrong = "not-the-password-" + uuid.uuid4().hex
    bus = RedisStreamsBus(redis_server.settings("p", password=wrong))

    # Act
    with capture_logs() as logs, pytest.raises(BusError) as refused:
        await bus.publish(_signal(1))
    await bus.close()

    # Assert
    assert f"redis at 127.0.0.1:{redis_server.port} refused the bus's password" in str(
        refused.value
    )
    assert wrong not in str(refused.value) + repr(logs)
    assert wrong not in repr(bus.settings)


async def test_bus_redis_gone_for_longer_than_retry_for_s_raises_unavailable(
    tmp_path: Path,
) -> None:
    # Arrange: a server that is stopped before the call
    server = RedisServer(tmp_path)
    server.start()
    server.stop()
    bus = RedisStreamsBus(server.settings("u", retry_for_s=0.3, max_backoff_s=0.1))

    # Act
    with pytest.raises(BusUnavailable) as gone:
        await bus.publish(_signal(1))
    await bus.close()

    # Assert
    assert f"redis at 127.0.0.1:{server.port} unreachable for 0.3 s (XADD)" in str(gone.value)


async def test_bus_redis_that_lost_everything_consumer_carries_on(
    redis_server: RedisServer,
) -> None:
    # Arrange: a consumer that has read one signal
    prefix = f"f{uuid.uuid4().hex[:8]}"
    bus = RedisStreamsBus(redis_server.settings(prefix))
    acted: list[str] = []

    async def act(envelope: Envelope) -> None:
        acted.append(envelope.event_id)

    consumer = BusConsumer(bus, SIG, "execution", "e", act, MemoryProcessedIds(), block_ms=0)
    await bus.publish(_signal(1))
    await consumer.poll()

    # Act: the server comes back empty (no persistence): stream and group are gone
    with redis_server.client() as client:
        client.delete(f"{prefix}:signals")
    await bus.publish(_signal(2))
    await consumer.poll()
    await bus.close()

    # Assert
    assert acted == ["sig-1", "sig-2"]


async def test_bus_redis_processed_ids_drop_a_repeat_and_expire(redis_server: RedisServer) -> None:
    # Arrange: a publisher that re-sent sig-1 (its first reply was lost)
    prefix = f"d{uuid.uuid4().hex[:8]}"
    bus = RedisStreamsBus(redis_server.settings(prefix))
    acted: list[str] = []

    async def act(envelope: Envelope) -> None:
        acted.append(envelope.event_id)

    processed = RedisProcessedIds(bus, "monitor", ttl_s=600)
    consumer = BusConsumer(bus, SIG, "monitor", "m", act, processed, block_ms=0)
    await bus.publish(_signal(1))
    await bus.publish(_signal(1))

    # Act
    await consumer.poll()
    await bus.close()

    # Assert
    assert acted == ["sig-1"]
    assert consumer.counts.duplicates == 1
    with redis_server.client() as client:
        assert 0 < client.ttl(f"{prefix}:processed:monitor:sig-1") <= 600


async def test_bus_consumer_redis_down_past_retry_for_s_polls_again_until_it_is_back(
    tmp_path: Path,
) -> None:
    # Arrange: a consumer whose bus gives up a call after 0.2 s (the default is 60 s), run
    # as the services run it (trying again after a pause: here 0.05 s, in the services 5 s)
    server = RedisServer(tmp_path)
    server.start()
    settings = server.settings("down", retry_for_s=0.2, max_backoff_s=0.05)
    acted: list[str] = []

    async def act(envelope: Envelope) -> None:
        acted.append(envelope.event_id)

    bus = RedisStreamsBus(settings)
    consumer = BusConsumer(bus, SIG, "monitor", "m", act, MemoryProcessedIds(), block_ms=50)
    stop = asyncio.Event()
    await bus.publish(_signal(1))
    running = asyncio.create_task(consumer.run(stop, retry_after_s=0.05))
    try:
        with capture_logs() as logs:
            await _until(lambda: acted == ["sig-1"])
            # Act: Redis down for several times retry_for_s, then back on its files
            server.kill()
            await _until(lambda: consumer.counts.bus_errors >= 3)
            server.start()
            await bus.publish(_signal(2))
            await _until(lambda: len(acted) == 2)
    finally:
        stop.set()
        await running
        await bus.close()
        server.stop()

    # Assert: the consumer never stopped; each failed poll was logged, naming the server
    # and not the password
    assert acted == ["sig-1", "sig-2"]
    failed = [e for e in logs if e["event"] == "bus unavailable, polling again"]
    assert len(failed) == consumer.counts.bus_errors >= 3
    assert f"redis at 127.0.0.1:{server.port} unreachable for 0.2 s" in failed[0]["error"]
    assert server.password not in repr(logs)
