"""The EventBus on Redis Streams (redis-py): XADD MAXLEN ~, consumer groups, XAUTOCLAIM.

Every call survives a Redis restart: a lost connection, a timeout or a server still loading
its append-only file is retried with exponential backoff (``retry_for_s``, then
:class:`BusUnavailable`); redis-py reconnects on the next call. A group that vanished with
a server that kept nothing (no persistence) is created again, from the stream's start.
A refused password is fatal, not retried. Logs name the server as host:port only; the
password is in no message, repr or log line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as redis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tradebot.domain.errors import ConfigError
from tradebot.services.bus.envelope import BusError, BusUnavailable, Envelope, Family
from tradebot.services.bus.port import Delivery, GroupInfo, PendingEntry, stream_name

log = structlog.get_logger("tradebot.bus")

T = TypeVar("T")

_Entries = list[tuple[str, dict[str, str] | None]]


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """Where the Redis server is and how the bus uses it.

    The server is expected on loopback with a password (``requirepass``); see
    docs/distributed.md. ``block_ms`` of any read must stay below ``socket_timeout_s``.
    """

    host: str = "127.0.0.1"
    port: int = 6379
    password: str = field(default="", repr=False)
    db: int = 0
    prefix: str = "tradebot"
    maxlen: int = 100_000
    socket_timeout_s: float = 30.0
    retry_for_s: float | None = 60.0  # None: retry until the server is back
    max_backoff_s: float = 2.0

    def __post_init__(self) -> None:
        """Refuse a bus without a password: it carries order commands.

        Raises:
            ConfigError: the password is empty.
        """
        if not self.password:
            raise ConfigError(
                f"the event bus's Redis at {self.server} has no password: set requirepass"
                " in the server's config (deploy/redis/redis.conf) and give the bus the same"
                " password (TRADEBOT_REDIS_PASSWORD); an open bus lets anyone send orders"
            )

    @property
    def server(self) -> str:
        """``host:port``, what logs and errors name (never the password)."""
        return f"{self.host}:{self.port}"


class RedisStreamsBus:
    """An EventBus on one Redis server, one stream per family under ``settings.prefix``."""

    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self._client = redis.Redis(
            host=settings.host,
            port=settings.port,
            db=settings.db,
            password=settings.password,
            decode_responses=True,
            protocol=2,
            socket_connect_timeout=settings.socket_timeout_s,
            socket_timeout=settings.socket_timeout_s,
            retry=Retry(NoBackoff(), 0),  # ``call`` retries, logs and gives up: one policy
        )

    @property
    def client(self) -> redis.Redis:
        """The redis-py client (for a processed-ids record on the same server)."""
        return self._client

    async def publish(self, envelope: Envelope) -> str:
        """XADD to the family's stream, trimmed with ``MAXLEN ~``."""
        name, maxlen = self._name(envelope.family), self.settings.maxlen
        fields: dict[Any, Any] = envelope.to_fields()
        message_id = await self.call(
            "XADD", lambda: self._client.xadd(name, fields, maxlen=maxlen, approximate=True)
        )
        return str(message_id)  # decode_responses: already text

    async def ensure_group(self, family: Family, group: str, start_id: str = "0") -> None:
        """XGROUP CREATE ... MKSTREAM unless the group exists."""
        name = self._name(family)
        try:
            await self.call(
                "XGROUP CREATE",
                lambda: self._client.xgroup_create(name, group, id=start_id, mkstream=True),
            )
        except ResponseError as e:
            if not str(e).startswith("BUSYGROUP"):
                raise

    async def read(
        self, family: Family, group: str, consumer: str, count: int, block_ms: int
    ) -> list[Delivery]:
        """XREADGROUP ``>``: messages no consumer of the group has had."""
        # BLOCK 0 would wait forever in Redis; here 0 means "do not wait"
        return await self._read_group(family, group, consumer, ">", count, block_ms or None)

    async def read_own_pending(
        self, family: Family, group: str, consumer: str, count: int
    ) -> list[Delivery]:
        """XREADGROUP ``0``: this consumer's unacknowledged messages."""
        return await self._read_group(family, group, consumer, "0", count, None)

    async def claim_stale(
        self, family: Family, group: str, consumer: str, min_idle_ms: int, count: int
    ) -> list[Delivery]:
        """XAUTOCLAIM from the start of the pending list until ``count`` are claimed."""
        name, cursor, out = self._name(family), "0-0", list[Delivery]()
        for _ in range(100):  # each XAUTOCLAIM scans at most 10 x count entries
            start, wanted = cursor, count - len(out)
            reply = await self._with_group(
                family,
                group,
                lambda: self._client.xautoclaim(
                    name,
                    group,
                    consumer,
                    min_idle_ms,
                    start_id=start,  # noqa: B023 (awaited within this iteration)
                    count=wanted,  # noqa: B023
                ),
            )
            cursor = reply[0]
            out += self._deliveries(family, reply[1])
            if cursor == "0-0" or len(out) >= count:
                break
        return out

    async def ack(self, family: Family, group: str, message_ids: Sequence[str]) -> int:
        """XACK; how many were pending."""
        if not message_ids:
            return 0
        name = self._name(family)
        acked: int = await self.call("XACK", lambda: self._client.xack(name, group, *message_ids))
        return acked

    async def pending(self, family: Family, group: str) -> list[PendingEntry]:
        """XPENDING (extended form): the group's pending messages, oldest first."""
        name = self._name(family)
        rows = await self._with_group(
            family,
            group,
            lambda: self._client.xpending_range(name, group, min="-", max="+", count=100_000),
        )
        return [
            PendingEntry(
                row["message_id"],
                row["consumer"],
                row["time_since_delivered"],
                row["times_delivered"],
            )
            for row in rows
        ]

    async def groups(self, family: Family) -> list[GroupInfo]:
        """XINFO GROUPS (``lag``: Redis 7)."""
        name = self._name(family)
        try:
            rows = await self.call("XINFO GROUPS", lambda: self._client.xinfo_groups(name))
        except ResponseError as e:
            if "no such key" in str(e):
                return []
            raise
        return sorted(
            (GroupInfo(str(r["name"]), int(r["pending"]), r.get("lag")) for r in rows),
            key=lambda g: g.name,
        )

    async def length(self, family: Family) -> int:
        """XLEN."""
        name = self._name(family)
        size: int = await self.call("XLEN", lambda: self._client.xlen(name))
        return size

    async def close(self) -> None:
        """Close the client's connections."""
        await self._client.aclose()

    async def call(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """Run ``op``, retrying a lost or loading server with backoff.

        Raises:
            BusUnavailable: the server stayed unreachable for ``retry_for_s``.
            BusError: the server refused the password.
        """
        settings, delay, outage_since = self.settings, 0.05, 0.0
        while True:
            try:
                result = await op()
            except AuthenticationError as e:
                raise BusError(
                    f"redis at {settings.server} refused the bus's password ({type(e).__name__})"
                    ": set the password the server's requirepass expects"
                ) from None
            except (RedisConnectionError, RedisTimeoutError) as e:
                now = time.monotonic()
                if not outage_since:
                    outage_since = now
                    log.warning(
                        "redis unavailable, retrying", server=settings.server, op=what, error=str(e)
                    )
                elif settings.retry_for_s is not None and now - outage_since > settings.retry_for_s:
                    raise BusUnavailable(
                        f"redis at {settings.server} unreachable for {settings.retry_for_s} s"
                        f" ({what}): {e}; start it or check the bus settings"
                    ) from e
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.max_backoff_s)
                continue
            if outage_since:
                log.info("redis reachable again", server=settings.server, op=what)
            return result

    async def _read_group(
        self, family: Family, group: str, consumer: str, start: str, count: int, block: int | None
    ) -> list[Delivery]:
        name = self._name(family)
        reply = await self._with_group(
            family,
            group,
            lambda: self._client.xreadgroup(
                group, consumer, {name: start}, count=count, block=block
            ),
        )
        entries: _Entries = reply[0][1] if reply else []
        deleted = [mid for mid, fields in entries if not fields]
        if deleted:  # trimmed while pending: drop them from the pending list, as XAUTOCLAIM does
            await self.ack(family, group, deleted)
        return self._deliveries(family, entries)

    async def _with_group(
        self, family: Family, group: str, op: Callable[[], Awaitable[Any]]
    ) -> Any:  # redis-py's replies are untyped; the callers unpack them
        # A server restarted without persistence lost the group: create it again and retry.
        try:
            return await self.call(f"stream {family.value} group {group}", op)
        except ResponseError as e:
            if not str(e).startswith("NOGROUP"):
                raise
            log.warning(
                "consumer group missing, creating it again", family=family.value, group=group
            )
            await self.ensure_group(family, group)
            return await self.call(f"stream {family.value} group {group}", op)

    def _deliveries(self, family: Family, entries: _Entries) -> list[Delivery]:
        return [Delivery(family, mid, fields) for mid, fields in entries if fields]

    def _name(self, family: Family) -> str:
        return stream_name(self.settings.prefix, family)
