"""Event bus speed: messages per second carried, and publish → handle latency p50/p99.

Both implementations, through the real code path: ``publish`` of an Envelope (JSON payload of
a closed 1m bar) → the stream → ``BusConsumer`` (consumer group, processed-ids check, ack) →
the handler. For Redis a throw-away ``redis-server`` (loopback, password, AOF everysec, as
deployed) is started unless ``--port`` names a running one (password in
``TRADEBOT_REDIS_PASSWORD``).

* throughput: ``--messages`` published back to back while one consumer drains them; the
  figure is messages handled per wall-clock second, and the benchmark process's CPU per
  message (Redis's own CPU is in its process, not counted).
* latency: one message at a time, the next published once the previous was handled; the
  figure is the time from calling ``publish`` to the handler running (same process, one
  clock), i.e. the bus's own delay when it is not queueing.

    .venv/bin/python bench/bus_speed.py
    .venv/bin/python bench/bus_speed.py --messages 50000 --only redis
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tradebot.services.bus import (
    BusConsumer,
    Envelope,
    EventBus,
    Family,
    MemoryBus,
    MemoryProcessedIds,
)
from tradebot.services.bus.redis_streams import RedisSettings, RedisStreamsBus

MD = Family.MARKET_DATA


def _bar(n: int) -> Envelope:
    payload = {
        "exchange": "binance",
        "symbol": "BTC/USDT",
        "timeframe": "1m",
        "ts_ms": 1_733_011_200_000 + n * 60_000,
        "open": "96407.99",
        "high": "96452.11",
        "low": "96390.00",
        "close": "96441.52",
        "volume": "12.48213",
        "sent_ns": time.perf_counter_ns(),
    }
    return Envelope(MD, "BarClosed", payload, "bench", created_ms=n, event_id=f"bar-{n}")


class _Clocked:
    """A handler that notes each message's publish → handle delay."""

    def __init__(self) -> None:
        self.delays_ns: list[int] = []
        self.handled = asyncio.Event()

    async def __call__(self, envelope: Envelope) -> None:
        sent = envelope.payload["sent_ns"]
        assert isinstance(sent, int)
        self.delays_ns.append(time.perf_counter_ns() - sent)
        self.handled.set()


async def _throughput(publisher: EventBus, consumer_bus: EventBus, messages: int) -> str:
    handler = _Clocked()
    consumer = BusConsumer(
        consumer_bus, MD, "bench-t", "c", handler, MemoryProcessedIds(), block_ms=50
    )
    await consumer.poll()  # creates the group before anything is published
    stop = asyncio.Event()
    draining = asyncio.create_task(consumer.run(stop))
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(messages):
        await publisher.publish(_bar(n))
    while consumer.counts.handled < messages:
        handler.handled.clear()
        await handler.handled.wait()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    await draining
    return (
        f"{messages / wall:,.0f} msg/s ({messages:,} in {wall:.2f} s wall),"
        f" {cpu / messages * 1e6:.0f} us CPU/msg in this process"
    )


async def _latency(publisher: EventBus, consumer_bus: EventBus, messages: int) -> str:
    handler = _Clocked()
    processed = MemoryProcessedIds()
    consumer = BusConsumer(
        consumer_bus, MD, "bench-l", "c", handler, processed, block_ms=1_000, start_id="$"
    )
    await consumer.poll()
    stop = asyncio.Event()
    draining = asyncio.create_task(consumer.run(stop))
    for n in range(messages):
        handler.handled.clear()
        await publisher.publish(_bar(10_000_000 + n))
        await handler.handled.wait()
    stop.set()
    await draining
    delays_ms = sorted(d / 1e6 for d in handler.delays_ns)
    p50 = statistics.median(delays_ms)
    p99 = delays_ms[min(len(delays_ms) - 1, int(len(delays_ms) * 0.99))]
    return f"publish -> handle p50 {p50:.3f} ms, p99 {p99:.3f} ms ({messages:,} one at a time)"


async def _run(name: str, pair: tuple[EventBus, EventBus], messages: int, samples: int) -> None:
    publisher, consumer_bus = pair
    print(f"{name:7} throughput: {await _throughput(publisher, consumer_bus, messages)}")
    print(f"{name:7} latency:    {await _latency(publisher, consumer_bus, samples)}")
    for bus in {id(publisher): publisher, id(consumer_bus): consumer_bus}.values():
        await bus.close()


@contextmanager
def _redis_server() -> Iterator[RedisSettings]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "redis.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\nrequirepass {password}\ndir {directory}\n"
            'appendonly yes\nappendfsync everysec\nsave ""\nlogfile ""\n',
            encoding="utf-8",
        )
        config.chmod(0o600)
        server = subprocess.Popen([binary, str(config)], stdout=subprocess.DEVNULL)
        try:
            yield RedisSettings(port=port, password=password, prefix="bench")
        finally:
            server.terminate()
            server.wait()


async def _redis_ready(settings: RedisSettings) -> None:
    bus = RedisStreamsBus(settings)
    await bus.length(MD)  # retries until the server answers
    await bus.close()


async def main(args: argparse.Namespace) -> None:
    """Run the chosen implementations."""
    if args.only in (None, "memory"):
        memory = MemoryBus(maxlen=args.messages)
        await _run("memory", (memory, memory), args.messages, args.samples)
    if args.only in (None, "redis"):
        with _redis_or_given(args) as settings:
            await _redis_ready(settings)
            pair = (RedisStreamsBus(settings), RedisStreamsBus(settings))
            await _run("redis", pair, args.messages, args.samples)


@contextmanager
def _redis_or_given(args: argparse.Namespace) -> Iterator[RedisSettings]:
    if args.port is None:
        with _redis_server() as settings:
            yield settings
    else:
        password = os.environ.get("TRADEBOT_REDIS_PASSWORD", "")
        yield RedisSettings(port=args.port, password=password, prefix=f"bench{os.getpid()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--only", choices=["memory", "redis"])
    parser.add_argument("--port", type=int, help="a running redis-server on 127.0.0.1")
    asyncio.run(main(parser.parse_args()))
