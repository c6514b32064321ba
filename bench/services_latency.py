"""Signal → order sent through Redis: the execution service's delay, p50/p99.

The real path of the distributed deployment from the strategy service's publish on: a
``SignalsDecided`` (BUY, then SELL, alternating bar by bar) is published on a Redis Streams
bus (a throw-away ``redis-server``: loopback, password, AOF everysec, as deployed), the
execution service's ``BusConsumer`` reads it, the single process's ``TradingBot`` decides
through the engine (``PublishedSignals``), saves the decision and the order intent to
SQLite, syncs the venue's fills and sends the order to the sandbox over HTTP on 127.0.0.1.
The figure is the time from calling ``publish`` to the venue's acceptance of the order
(``BotObserver.on_order_sent``), one signal at a time, after the sandbox moved one bar.
Everything runs in this process, so the sandbox's own work counts too; the CPU time per
signal is printed beside the wall figures (steadier on a loaded machine).

    .venv/bin/python bench/services_latency.py --signals 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bus_speed import _redis_ready, _redis_server
from tradebot.config import load_config
from tradebot.data.load import sample_path
from tradebot.domain.commands import PlaceOrder, Step
from tradebot.domain.decisions import Signal, SignalAction
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.candles import closed_candles
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.services.assembly import execution_service
from tradebot.services.bus import BusConsumer, Family, MemoryProcessedIds
from tradebot.services.bus.redis_streams import RedisStreamsBus
from tradebot.services.messages import SignalsDecided, SymbolSignal
from tradebot.state import Repository, create_database

BIG = 10_000_000
SYMBOL = "BTC/USDT"


class _Sent:
    """Notes when the venue accepted each order (the observer seam of the bot)."""

    def __init__(self) -> None:
        self.at_ns = 0
        self.event = asyncio.Event()

    def on_candles(self, venue_now_ms: int, newest_close_ms: int | None) -> None:
        """Not timed."""

    def on_cycle(self, bar_ts_ms: int, duration_s: float) -> None:
        """Not timed."""

    def on_order_sent(self, order: PlaceOrder) -> None:
        """The end of the measured span (the first order of a signal)."""
        self.at_ns = self.at_ns or time.perf_counter_ns()
        self.event.set()

    def on_saved(self, step: Step, trade_ids: list[int]) -> None:
        """Not timed."""


async def _measure(server: SandboxServer, bus: RedisStreamsBus, runtime: Path, n: int) -> None:
    config = load_config(None)
    settings = ConnectSettings(
        venue=Venue.SANDBOX, sandbox_url=server.http_url, websockets=False,
        budget=RateBudget(weight_per_window=BIG, orders_per_window=BIG), runtime_dir=runtime,
    )  # fmt: skip
    connector = connect(settings)
    repo = Repository(create_database(f"sqlite:///{runtime / 'bench.db'}"))
    sent = _Sent()
    execution = execution_service(
        config, connector, repo, bus, BotSettings((SYMBOL,), "1h", window_bars=60), 60_000, sent
    )
    await execution.start()
    consumer = BusConsumer(bus, Family.SIGNALS, "execution", "e1", execution, MemoryProcessedIds())
    await consumer.poll()  # the group, before anything is published
    stop = asyncio.Event()
    consuming = asyncio.create_task(consumer.run(stop))
    delays_ms: list[float] = []
    cpu = time.process_time()
    for k in range(n):
        await server.advance(1)
        now = await connector.fetch_time()
        window = (await closed_candles(connector, SYMBOL, "1h", now, 62))[-60:]
        action = SignalAction.BUY if k % 2 == 0 else SignalAction.SELL
        signal = SymbolSignal(Signal(action, 1.0, "bench"), {}, window)
        observed = int(time.time() * 1000)
        message = SignalsDecided("sandbox", "1h", window[-1].ts_ms, observed, {SYMBOL: signal})
        sent.at_ns = 0
        sent.event.clear()
        start = time.perf_counter_ns()
        await bus.publish(message.envelope("bench", observed))
        await sent.event.wait()
        delays_ms.append((sent.at_ns - start) / 1e6)
    cpu = time.process_time() - cpu
    stop.set()
    await consuming
    await connector.close()
    delays_ms.sort()
    p99 = delays_ms[min(len(delays_ms) - 1, int(len(delays_ms) * 0.99))]
    print(
        f"signal -> order sent: p50 {statistics.median(delays_ms):.1f} ms, p99 {p99:.1f} ms, "
        f"max {delays_ms[-1]:.1f} ms over {n} signals; {cpu / n * 1000:.1f} ms CPU a signal "
        "(this process: bus client, execution, sandbox)"
    )


async def main(args: argparse.Namespace) -> None:
    """Start Redis and the sandbox, measure."""
    sample = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
    sandbox = SandboxConfig(
        port=0, data_files={SYMBOL: sample}, spread_bps=Decimal(0),
        level_notional=Decimal(BIG), start_index=400, weight_limit_1m=BIG,
    )  # fmt: skip
    with _redis_server() as redis, tempfile.TemporaryDirectory() as runtime:
        await _redis_ready(redis)
        bus = RedisStreamsBus(redis)
        async with SandboxServer(sandbox) as server:
            await _measure(server, bus, Path(runtime), args.signals)
        await bus.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
