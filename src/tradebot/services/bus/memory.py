"""The in-memory EventBus: Redis Streams semantics inside one process (the default).

Streams, consumer groups, pending lists, acknowledgement, take-over of stale messages and
``MAXLEN`` trimming behave as Redis does, so services and their tests run without a server.
Messages are stored encoded (the envelope's text fields), exactly what Redis would hold.
It is bound to one asyncio loop and dies with the process: it carries nothing across a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tradebot.services.bus.envelope import Envelope, Family
from tradebot.services.bus.port import Delivery, GroupInfo, PendingEntry


@dataclass(slots=True)
class _Pending:
    consumer: str
    delivered_s: float
    deliveries: int


@dataclass(slots=True)
class _Group:
    last_delivered: int
    pending: dict[int, _Pending] = field(default_factory=dict)


@dataclass(slots=True)
class _Stream:
    entries: OrderedDict[int, dict[str, str]] = field(default_factory=OrderedDict)
    next_seq: int = 1
    groups: dict[str, _Group] = field(default_factory=dict)


def _message_id(seq: int) -> str:
    return f"{seq}-0"


def _seq(message_id: str) -> int:
    return int(message_id.split("-", 1)[0])


class MemoryBus:
    """An EventBus in this process; ``clock`` (seconds) measures how long a message idles."""

    def __init__(self, maxlen: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._maxlen = maxlen
        self._clock = clock
        self._streams: dict[Family, _Stream] = {family: _Stream() for family in Family}
        self._arrived = asyncio.Condition()

    async def publish(self, envelope: Envelope) -> str:
        """Append to the family's stream, trimming the oldest past ``maxlen``."""
        stream = self._streams[envelope.family]
        seq = stream.next_seq
        stream.next_seq += 1
        stream.entries[seq] = envelope.to_fields()
        while len(stream.entries) > self._maxlen:
            stream.entries.popitem(last=False)
        async with self._arrived:
            self._arrived.notify_all()
        return _message_id(seq)

    async def ensure_group(self, family: Family, group: str, start_id: str = "0") -> None:
        """Create the group unless it exists; ``"$"`` skips what the stream holds now."""
        stream = self._streams[family]
        if group not in stream.groups:
            start = stream.next_seq - 1 if start_id == "$" else _seq(start_id)
            stream.groups[group] = _Group(last_delivered=start)

    async def read(
        self, family: Family, group: str, consumer: str, count: int, block_ms: int
    ) -> list[Delivery]:
        """Hand out messages past the group's last delivered one, waiting up to ``block_ms``."""
        stream = self._streams[family]
        state = self._group(family, group)

        def has_new() -> bool:
            return stream.next_seq - 1 > state.last_delivered

        if not has_new() and block_ms > 0:
            async with self._arrived:
                try:
                    await asyncio.wait_for(self._arrived.wait_for(has_new), block_ms / 1000)
                except TimeoutError:
                    return []
        # Sequence numbers are consecutive and only the oldest are trimmed: start at the
        # first kept one after the group's position instead of scanning the stream.
        oldest = next(iter(stream.entries), stream.next_seq)
        first = max(state.last_delivered + 1, oldest)
        last = min(first + count, stream.next_seq)
        now = self._clock()
        out: list[Delivery] = []
        for seq in range(first, last):
            state.pending[seq] = _Pending(consumer, now, 1)
            out.append(Delivery(family, _message_id(seq), stream.entries[seq]))
        state.last_delivered = max(state.last_delivered, last - 1)
        return out

    async def read_own_pending(
        self, family: Family, group: str, consumer: str, count: int
    ) -> list[Delivery]:
        """Re-deliver this consumer's unacknowledged messages (trimmed ones are dropped)."""
        return self._redeliver(family, group, consumer, count, lambda p: p.consumer == consumer)

    async def claim_stale(
        self, family: Family, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        """Take over messages pending for at least ``min_idle_ms``, whoever read them."""
        now = self._clock()
        return self._redeliver(
            family,
            group,
            consumer,
            count,
            lambda p: (now - p.delivered_s) * 1000 >= min_idle_ms,
        )

    async def ack(self, family: Family, group: str, message_ids: Sequence[str]) -> int:
        """Drop the messages from the group's pending list; how many were pending."""
        pending = self._group(family, group).pending
        return sum(pending.pop(_seq(mid), None) is not None for mid in message_ids)

    async def pending(self, family: Family, group: str) -> list[PendingEntry]:
        """The group's pending messages, oldest first."""
        now = self._clock()
        return [
            PendingEntry(
                _message_id(seq), p.consumer, int((now - p.delivered_s) * 1000), p.deliveries
            )
            for seq, p in sorted(self._group(family, group).pending.items())
        ]

    async def groups(self, family: Family) -> list[GroupInfo]:
        """Each group's pending count and the kept messages past its last delivered one."""
        stream = self._streams[family]
        last = stream.next_seq - 1
        return [
            GroupInfo(name, len(g.pending), min(last - g.last_delivered, len(stream.entries)))
            for name, g in sorted(stream.groups.items())
        ]

    async def length(self, family: Family) -> int:
        """How many messages the family's stream holds."""
        return len(self._streams[family].entries)

    async def close(self) -> None:
        """Nothing to release."""

    def _group(self, family: Family, group: str) -> _Group:
        # A group nobody created reads from the stream's start, as RedisStreamsBus does.
        return self._streams[family].groups.setdefault(group, _Group(last_delivered=0))

    def _redeliver(
        self,
        family: Family,
        group: str,
        consumer: str,
        count: int,
        wanted: Callable[[_Pending], bool],
    ) -> list[Delivery]:
        stream, pending = self._streams[family], self._group(family, group).pending
        out: list[Delivery] = []
        for seq in sorted(pending):
            if len(out) == count:
                break
            entry = pending[seq]
            if not wanted(entry):
                continue
            if seq not in stream.entries:  # trimmed while pending: Redis drops it too
                del pending[seq]
                continue
            pending[seq] = _Pending(consumer, self._clock(), entry.deliveries + 1)
            out.append(Delivery(family, _message_id(seq), stream.entries[seq]))
        return out
