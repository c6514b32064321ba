"""The EventBus contract: the same calls give the same results in memory and on Redis.

Runs against MemoryBus and RedisStreamsBus (a real redis-server on loopback, see
tests/redis_server.py). Nothing here waits on a clock: ``claim_stale`` with an idle time of
0 takes over every pending message, and with an hour none.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from redis_server import RedisServer
from tradebot.services.bus import (
    BusConsumer,
    Envelope,
    EventBus,
    Family,
    GroupInfo,
    MemoryBus,
    MemoryProcessedIds,
)
from tradebot.services.bus.redis_streams import RedisStreamsBus

MD = Family.MARKET_DATA
HOUR_MS = 3_600_000


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    made: EventBus
    if request.param == "memory":
        made = MemoryBus(maxlen=50)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisStreamsBus(server.settings(f"t{uuid.uuid4().hex[:8]}", maxlen=50))
    yield made
    await made.close()


def _bar(n: int, family: Family = MD) -> Envelope:
    return Envelope(family, "BarClosed", {"n": n}, "test", created_ms=n, event_id=f"bar-{n}")


async def _publish(bus: EventBus, *numbers: int) -> list[str]:
    return [await bus.publish(_bar(n)) for n in numbers]


def _numbers(deliveries: list) -> list[int]:  # type: ignore[type-arg]
    return [d.envelope().payload["n"] for d in deliveries]


async def test_bus_group_hands_each_message_to_one_consumer_and_every_group_gets_all(
    bus: EventBus,
) -> None:
    # Arrange
    await bus.ensure_group(MD, "strategy")
    await bus.ensure_group(MD, "monitor")
    await _publish(bus, 1, 2, 3)

    # Act
    first = await bus.read(MD, "strategy", "s-1", count=2, block_ms=0)
    second = await bus.read(MD, "strategy", "s-2", count=10, block_ms=0)
    monitor = await bus.read(MD, "monitor", "m-1", count=10, block_ms=0)

    # Assert
    assert _numbers(first) == [1, 2]
    assert _numbers(second) == [3]
    assert _numbers(monitor) == [1, 2, 3]
    assert await bus.read(MD, "strategy", "s-1", count=10, block_ms=0) == []


async def test_bus_unacked_message_stays_pending_until_acked(bus: EventBus) -> None:
    # Arrange
    await bus.ensure_group(MD, "g")
    ids = await _publish(bus, 1, 2)
    await bus.read(MD, "g", "c", count=10, block_ms=0)

    # Act
    acked = await bus.ack(MD, "g", [ids[0]])
    pending = await bus.pending(MD, "g")

    # Assert
    assert acked == 1
    assert [(p.message_id, p.consumer, p.deliveries) for p in pending] == [(ids[1], "c", 1)]
    assert await bus.ack(MD, "g", [ids[0]]) == 0


async def test_bus_claim_stale_takes_over_idle_messages_only(bus: EventBus) -> None:
    # Arrange: consumer "dead" read two messages and never acknowledged them
    await bus.ensure_group(MD, "g")
    await _publish(bus, 1, 2)
    await bus.read(MD, "g", "dead", count=10, block_ms=0)

    # Act
    too_fresh = await bus.claim_stale(MD, "g", "alive", min_idle_ms=HOUR_MS, count=10)
    claimed = await bus.claim_stale(MD, "g", "alive", min_idle_ms=0, count=10)
    pending = await bus.pending(MD, "g")

    # Assert
    assert too_fresh == []
    assert _numbers(claimed) == [1, 2]
    assert {(p.consumer, p.deliveries) for p in pending} == {("alive", 2)}


async def test_bus_read_own_pending_returns_only_this_consumers_backlog(bus: EventBus) -> None:
    # Arrange
    await bus.ensure_group(MD, "g")
    await _publish(bus, 1, 2, 3)
    await bus.read(MD, "g", "a", count=2, block_ms=0)
    await bus.read(MD, "g", "b", count=1, block_ms=0)

    # Act
    own = await bus.read_own_pending(MD, "g", "a", count=10)

    # Assert
    assert _numbers(own) == [1, 2]


async def test_bus_new_group_from_dollar_skips_what_the_stream_holds(bus: EventBus) -> None:
    # Arrange
    await _publish(bus, 1)
    await bus.ensure_group(MD, "late", start_id="$")
    await bus.ensure_group(MD, "early")
    await _publish(bus, 2)

    # Act
    late = await bus.read(MD, "late", "c", count=10, block_ms=0)
    early = await bus.read(MD, "early", "c", count=10, block_ms=0)

    # Assert
    assert (_numbers(late), _numbers(early)) == ([2], [1, 2])


async def test_bus_ensure_group_twice_keeps_the_groups_position(bus: EventBus) -> None:
    await bus.ensure_group(MD, "g")
    await _publish(bus, 1)
    await bus.read(MD, "g", "c", count=10, block_ms=0)

    await bus.ensure_group(MD, "g")

    assert await bus.read(MD, "g", "c", count=10, block_ms=0) == []


async def test_bus_families_are_separate_streams(bus: EventBus) -> None:
    await bus.ensure_group(Family.SIGNALS, "execution")
    await bus.publish(_bar(1, Family.SIGNALS))
    await _publish(bus, 2)

    got = await bus.read(Family.SIGNALS, "execution", "e", count=10, block_ms=0)

    assert _numbers(got) == [1]
    assert got[0].envelope().family is Family.SIGNALS


async def test_bus_stream_is_trimmed_to_about_maxlen(bus: EventBus) -> None:
    # Act: 50 is the fixture's maxlen; Redis trims whole nodes (~), so "about"
    await _publish(bus, *range(400))

    # Assert
    assert 50 <= await bus.length(MD) < 400


async def test_bus_blocked_read_wakes_on_publish(bus: EventBus) -> None:
    # Arrange
    await bus.ensure_group(MD, "g")
    reader = asyncio.create_task(bus.read(MD, "g", "c", count=10, block_ms=5_000))
    await asyncio.sleep(0.05)  # let the read start blocking; the publish must wake it

    # Act
    await _publish(bus, 7)
    got = await asyncio.wait_for(reader, timeout=2)

    # Assert
    assert _numbers(got) == [7]


async def test_bus_blocked_read_times_out_empty(bus: EventBus) -> None:
    await bus.ensure_group(MD, "g")

    assert await bus.read(MD, "g", "c", count=10, block_ms=20) == []


async def test_bus_read_on_a_group_nobody_created_reads_from_the_start(bus: EventBus) -> None:
    # Arrange: on Redis this is also what a server restarted without its files looks like
    await _publish(bus, 1, 2)

    # Act
    got = await bus.read(MD, "new", "c", count=10, block_ms=0)

    # Assert
    assert _numbers(got) == [1, 2]


async def test_bus_consumer_parks_a_message_its_handler_always_fails_and_moves_on(
    bus: EventBus,
) -> None:
    # Arrange: a handler that can never handle bar 1; redelivered at once (claim_idle_ms=0)
    await _publish(bus, 1, 2)
    handled: list[str] = []

    async def handler(envelope: Envelope) -> None:
        if envelope.event_id == "bar-1":
            raise RuntimeError("cannot handle bar 1")
        handled.append(envelope.event_id)

    consumer = BusConsumer(bus, MD, "g", "c", handler, MemoryProcessedIds(), block_ms=0,
                           claim_idle_ms=0, max_deliveries=3)  # fmt: skip

    # Act
    for _ in range(5):
        await consumer.poll()

    # Assert: tried three times, then parked with its error, alerted, and let go
    assert handled == ["bar-2"]
    assert (consumer.counts.failed, consumer.counts.parked) == (3, 1)
    assert await bus.pending(MD, "g") == []
    (parked,) = await bus.read(Family.DEAD_LETTERS, "ops", "o", count=10, block_ms=0)
    payload = parked.envelope().payload
    assert (payload["event_id"], payload["deliveries"], payload["group"]) == ("bar-1", 3, "g")
    assert payload["fields"] == _bar(1).to_fields()
    (alert,) = await bus.read(Family.ALERTS, "ops", "o", count=10, block_ms=0)
    assert alert.envelope().type == "MessageParked"
    reason = alert.envelope().payload["reason"]
    assert "event bar-1 (BarClosed) failed 3 deliveries in group g" in str(reason)
    assert "RuntimeError: cannot handle bar 1" in str(reason)


async def test_bus_groups_report_pending_and_lag(bus: EventBus) -> None:
    # Arrange: five messages; group "a" read three and acknowledged one, "b" read none
    assert await bus.groups(MD) == []
    await bus.ensure_group(MD, "a")
    await bus.ensure_group(MD, "b")
    await _publish(bus, 1, 2, 3, 4, 5)
    read = await bus.read(MD, "a", "c", count=3, block_ms=0)
    await bus.ack(MD, "a", [read[0].message_id])

    # Act
    groups = await bus.groups(MD)

    # Assert
    assert groups == [GroupInfo("a", pending=2, lag=2), GroupInfo("b", pending=0, lag=5)]
