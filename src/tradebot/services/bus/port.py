"""The EventBus port: Redis Streams semantics, whichever implementation is plugged in.

Delivery is at least once. A consumer group hands each message to one of its consumers and
keeps it *pending* until that consumer acknowledges it; a message a consumer read and never
acknowledged (it died) is taken over by another consumer of the group with
:meth:`EventBus.claim_stale` once it has been idle long enough. Handling a message twice is
therefore possible, and consumers de-duplicate by event id (``services/bus/consumer.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tradebot.services.bus.envelope import Envelope, Family


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as a consumer received it: the stream's id for it and its fields.

    The fields are decoded by :meth:`envelope` so that a consumer can refuse (and
    acknowledge) a message it cannot read instead of failing on it forever.
    """

    family: Family
    message_id: str
    fields: dict[str, str]

    def envelope(self) -> Envelope:
        """The decoded envelope (raises ``EnvelopeError`` / ``UnsupportedEnvelope``)."""
        return Envelope.from_fields(self.fields)


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A message read by a consumer of a group and not yet acknowledged."""

    message_id: str
    consumer: str
    idle_ms: int
    deliveries: int


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A consumer group of a stream: what it holds unacknowledged and what it has not read.

    ``lag`` is None when the server cannot tell (Redis, after entries were deleted from
    the middle of the stream).
    """

    name: str
    pending: int
    lag: int | None


def stream_name(prefix: str, family: Family) -> str:
    """The stream (Redis key) a family's messages go to: ``<prefix>:<family>``."""
    return f"{prefix}:{family.value}"


class EventBus(Protocol):
    """Publish to a family's stream; read it through consumer groups; acknowledge."""

    async def publish(self, envelope: Envelope) -> str:
        """Append to the envelope's family stream (trimmed to about ``maxlen``); the id."""
        ...

    async def ensure_group(self, family: Family, group: str, start_id: str = "0") -> None:
        """Create the group if it does not exist; a new group reads from ``start_id``.

        ``"0"`` (the default) reads everything the stream still holds, so nothing published
        before the first consumer started is missed; ``"$"`` reads only what comes next.
        """
        ...

    async def read(
        self, family: Family, group: str, consumer: str, count: int, block_ms: int
    ) -> list[Delivery]:
        """Up to ``count`` messages no consumer of the group has had; wait ``block_ms``."""
        ...

    async def read_own_pending(
        self, family: Family, group: str, consumer: str, count: int
    ) -> list[Delivery]:
        """The messages this consumer name read and never acknowledged (a restart's backlog)."""
        ...

    async def claim_stale(
        self, family: Family, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        """Take over messages other consumers left pending for at least ``min_idle_ms``."""
        ...

    async def ack(self, family: Family, group: str, message_ids: Sequence[str]) -> int:
        """Acknowledge: the messages leave the group's pending list; how many did."""
        ...

    async def pending(self, family: Family, group: str) -> list[PendingEntry]:
        """The group's pending messages, oldest first."""
        ...

    async def groups(self, family: Family) -> list[GroupInfo]:
        """The family's consumer groups, by name (none before the stream exists)."""
        ...

    async def length(self, family: Family) -> int:
        """How many messages the family's stream holds (after trimming)."""
        ...

    async def close(self) -> None:
        """Release connections; the bus is unusable afterwards."""
        ...
