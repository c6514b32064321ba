"""MemoryBus and RedisStreamsBus agree on any sequence of bus calls (Hypothesis).

The contract suite checks chosen cases; this drives both implementations with the same
random calls (publish, read by two consumers, ack, take over, a restart's backlog) and
compares what each consumer receives and what stays pending, message by message. Message
ids differ between the two (Redis's carry the time), so messages are compared by payload.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_server import RedisServer
from tradebot.services.bus import Envelope, EventBus, Family, MemoryBus
from tradebot.services.bus.redis_streams import RedisStreamsBus

MD = Family.MARKET_DATA
HOUR_MS = 3_600_000

_consumers = st.sampled_from(["a", "b"])
_ops = st.one_of(
    st.tuples(st.just("publish"), st.integers(1, 3)),
    st.tuples(st.just("read"), _consumers, st.integers(1, 4)),
    st.tuples(st.just("ack"), st.integers(0, 5)),
    st.tuples(st.just("claim"), _consumers, st.sampled_from([0, HOUR_MS]), st.integers(1, 4)),
    st.tuples(st.just("own"), _consumers, st.integers(1, 4)),
)


@dataclass
class _Driven:
    """One implementation and what it was seen to do."""

    bus: EventBus
    numbers: dict[str, int] = field(default_factory=dict)  # message id -> payload n
    seen: list[object] = field(default_factory=list)

    async def apply(self, op: tuple, next_n: int) -> None:  # type: ignore[type-arg]
        kind = op[0]
        if kind == "publish":
            for n in range(next_n, next_n + op[1]):
                envelope = Envelope(MD, "BarClosed", {"n": n}, "t", n, event_id=f"e{n}")
                self.numbers[await self.bus.publish(envelope)] = n
        elif kind == "ack":
            pending = await self.bus.pending(MD, "g")
            ids = [p.message_id for p in pending[: op[1]]]
            self.seen.append(("ack", await self.bus.ack(MD, "g", ids)))
        else:
            got = await self._receive(op)
            self.seen.append((kind, [self.numbers[d.message_id] for d in got]))
        pending = await self.bus.pending(MD, "g")
        self.seen.append([(self.numbers[p.message_id], p.consumer, p.deliveries) for p in pending])

    async def _receive(self, op: tuple) -> list:  # type: ignore[type-arg]
        if op[0] == "read":
            return await self.bus.read(MD, "g", op[1], count=op[2], block_ms=0)
        if op[0] == "claim":
            return await self.bus.claim_stale(MD, "g", op[1], min_idle_ms=op[2], count=op[3])
        return await self.bus.read_own_pending(MD, "g", op[1], count=op[2])


async def _drive(server: RedisServer, ops: list[tuple]) -> tuple[list, list]:  # type: ignore[type-arg]
    memory = _Driven(MemoryBus())
    redis = _Driven(RedisStreamsBus(server.settings(f"m{uuid.uuid4().hex[:8]}")))
    for driven in (memory, redis):
        await driven.bus.ensure_group(MD, "g")
        next_n = 0
        for op in ops:
            await driven.apply(op, next_n)
            next_n += op[1] if op[0] == "publish" else 0
    await redis.bus.close()
    return memory.seen, redis.seen


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(_ops, max_size=14))
def test_bus_memory_and_redis_agree_on_any_sequence_of_calls(
    redis_server: RedisServer,
    ops: list[tuple],  # type: ignore[type-arg]
) -> None:
    # Act
    memory, redis = asyncio.run(_drive(redis_server, ops))

    # Assert
    assert memory == redis
