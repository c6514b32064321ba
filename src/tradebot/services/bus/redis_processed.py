"""A processed-ids record in Redis: one key per event id, expiring after ``ttl_s``.

For consumers whose effect is idempotent anyway (metrics, dashboards, the latest bar): the
record is separate from the effect, so a crash between the two acts again (see
``services/bus/consumer.py``). The time to live must outlast any redelivery: longer than a
message can stay pending (the longest outage a consumer group sits out) plus
``claim_idle_ms``; the default is seven days.
"""

from __future__ import annotations

from tradebot.services.bus.redis_streams import RedisStreamsBus

WEEK_S = 7 * 24 * 3600


class RedisProcessedIds:
    """Event ids a consumer group acted on, as ``<prefix>:processed:<group>:<event id>`` keys."""

    def __init__(self, bus: RedisStreamsBus, group: str, ttl_s: int = WEEK_S) -> None:
        self._bus, self._ttl_s = bus, ttl_s
        self._prefix = f"{bus.settings.prefix}:processed:{group}:"

    async def contains(self, event_id: str) -> bool:
        """EXISTS on the event's key."""
        key = self._prefix + event_id
        found: int = await self._bus.call("EXISTS", lambda: self._bus.client.exists(key))
        return found == 1

    async def add(self, event_id: str) -> None:
        """SET the event's key with its time to live."""
        key = self._prefix + event_id
        await self._bus.call("SET", lambda: self._bus.client.set(key, 1, ex=self._ttl_s))
