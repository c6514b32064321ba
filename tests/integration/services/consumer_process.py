"""A bus consumer as its own process, for the kill checks (run by test_bus_redis.py).

Acts on ``signals`` by writing an effect row and the event id in one SQLite transaction
(the processed-ids record is the consumer's own state, as the execution service's will be).
``BUS_PAUSE_AT`` (``before_effect`` or ``before_ack``) and ``BUS_PAUSE_EVENT`` make it stop
there and say so, so that the test can SIGKILL it at that point.

Usage: python consumer_process.py PORT PREFIX NAME DB  (password in BUS_REDIS_PASSWORD)
"""

# ruff: noqa: T201  (a test's child process reports through its output)
from __future__ import annotations

import asyncio
import os
import sqlite3
import sys

from tradebot.services.bus import BusConsumer, Envelope, Family
from tradebot.services.bus.redis_streams import RedisSettings, RedisStreamsBus


class SqliteEffects:
    """The handler and its processed-ids record, committed together."""

    def __init__(self, path: str, pause_at: str, pause_event: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.execute("CREATE TABLE IF NOT EXISTS effects (event_id TEXT, consumer TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY)")
        self.pause_at, self.pause_event = pause_at, pause_event
        self.name = ""

    async def __call__(self, envelope: Envelope) -> None:
        await self._maybe_pause("before_effect", envelope.event_id)
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO effects VALUES (?, ?)", (envelope.event_id, self.name))
        self.db.execute("INSERT INTO processed VALUES (?)", (envelope.event_id,))
        self.db.execute("COMMIT")
        await self._maybe_pause("before_ack", envelope.event_id)

    async def contains(self, event_id: str) -> bool:
        query = "SELECT 1 FROM processed WHERE event_id = ?"
        found = self.db.execute(query, (event_id,)).fetchone() is not None
        if found:
            print(f"already acted on {event_id}", flush=True)
        return found

    async def add(self, event_id: str) -> None:
        """Nothing to do: the handler recorded the id with its effect."""

    async def _maybe_pause(self, point: str, event_id: str) -> None:
        if (point, event_id) == (self.pause_at, self.pause_event):
            print(f"paused {point} {event_id}", flush=True)
            await asyncio.Event().wait()  # until SIGKILL


async def main(port: int, prefix: str, name: str, db: str) -> None:
    settings = RedisSettings(port=port, password=os.environ["BUS_REDIS_PASSWORD"], prefix=prefix)
    bus = RedisStreamsBus(settings)
    effects = SqliteEffects(
        db, os.environ.get("BUS_PAUSE_AT", ""), os.environ.get("BUS_PAUSE_EVENT", "")
    )
    effects.name = name
    consumer = BusConsumer(
        bus, Family.SIGNALS, "execution", name, effects, effects, block_ms=100, claim_idle_ms=200
    )
    print("consuming", flush=True)
    said = ""
    while True:
        await consumer.poll()
        counts = f"handled={consumer.counts.handled} duplicates={consumer.counts.duplicates}"
        if counts != said:
            print(counts, flush=True)
            said = counts


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]))
