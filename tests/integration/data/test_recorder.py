"""TradeRecorder: the sandbox's trade stream (ccxt.pro over loopback) into a real SQLite store."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tradebot.data.recorder import TradeRecorder
from tradebot.data.store import CandleStore
from tradebot.domain.orders import OrderSide
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.stream import MarketTrade, StreamSettings
from tradebot.sandbox import SandboxConfig, SandboxServer

SYMBOL = "BTC/USDT"
T0 = 1_733_011_200_000  # 2024-12-01 00:00 UTC
STEP_MS = 60_000


def write_candles(path: Path, bars: int = 30) -> Path:
    """Rising 1m bars: open 95000 + 10·i, low open - 15, high open + 15, close open + 5."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(bars):
        o = 95_000 + 10 * i
        lines.append(f"{T0 + i * STEP_MS},{o}.00,{o + 15}.00,{o - 15}.00,{o + 5}.00,0.4")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait until ``check()`` holds (fail after ``timeout_s``)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.02)


def subscribed(sandbox: SandboxServer) -> bool:
    return any("btcusdt@trade" in c.streams for c in sandbox.hub.connections)


class ManualClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CandleStore]:
    with CandleStore(tmp_path / "ticks.db") as tick_store:
        yield tick_store


def trade(n: int, price: float = 100.0) -> MarketTrade:
    return MarketTrade(SYMBOL, T0 + n, price, 0.5, OrderSide.BUY, trade_id=str(n))


async def test_recorder_sandbox_trades_reach_the_store_once_across_a_reconnect(
    tmp_path: Path, store: CandleStore
) -> None:
    # Arrange: a deterministic sandbox, a connector with websockets, a recorder on its trades
    config = SandboxConfig(
        port=0, data_files={SYMBOL: write_candles(tmp_path / "btc.csv.gz")}, spread_bps=Decimal(0)
    )
    async with SandboxServer(config) as sandbox:
        settings = ConnectSettings(
            venue=Venue.SANDBOX,
            sandbox_url=sandbox.http_url,
            runtime_dir=tmp_path,
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.5),
            streams=StreamSettings(poll_interval_s=0.05),
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        recorder = TradeRecorder(store, batch_size=4, flush_interval_s=0.05)
        task = asyncio.create_task(recorder.record(connector.watch_trades(SYMBOL)))
        try:
            await eventually(lambda: subscribed(sandbox))

            # Act: two bars close (three prints each: low, high, close), the socket drops,
            # the stream comes back, two more bars close
            await sandbox.advance(2)
            await eventually(lambda: len(store.read_ticks(SYMBOL)) == 6)
            await sandbox.hub.disconnect_all()
            await eventually(lambda: subscribed(sandbox))
            await sandbox.advance(2)
            await eventually(lambda: len(store.read_ticks(SYMBOL)) == 12)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await connector.close()

    # Assert: the walk of each bar, in order, each trade once with the venue's id
    ticks = store.read_ticks(SYMBOL)
    prices = [t.price for t in ticks]
    expected = [p for o in range(95_000, 95_040, 10) for p in (o - 15, o + 15, o + 5)]
    assert prices == expected
    assert len({t.trade_id for t in ticks}) == 12
    assert all(t.qty == 0.1 and t.side == "buy" for t in ticks)
    assert [t.ts_ms // STEP_MS for t in ticks][::3] == [T0 // STEP_MS + i for i in range(4)]
    assert recorder.stats.written == 12


async def test_recorder_stream_repeating_trades_after_reconnect_stores_each_once(
    store: CandleStore,
) -> None:
    # Arrange: a stream that delivers trades 0-4, then (reconnected) 3-7 again
    async def replaying() -> AsyncIterator[MarketTrade]:
        for n in [*range(5), *range(3, 8)]:
            yield trade(n, price=100.0 + n)

    recorder = TradeRecorder(store, batch_size=3)

    # Act
    await recorder.record(replaying())

    # Assert
    ticks = store.read_ticks(SYMBOL)
    assert [t.trade_id for t in ticks] == [str(n) for n in range(8)]
    assert [t.price for t in ticks] == [100.0 + n for n in range(8)]
    assert (recorder.stats.received, recorder.stats.repeated, recorder.stats.written) == (10, 2, 8)


def test_recorder_flushes_on_batch_size_or_on_the_injected_clock(store: CandleStore) -> None:
    clock = ManualClock()
    recorder = TradeRecorder(store, batch_size=3, flush_interval_s=5.0, clock=clock)

    recorder.add(trade(1))
    recorder.add(trade(2))
    held = len(store.read_ticks(SYMBOL))
    recorder.add(trade(3))  # the batch is full
    after_batch = len(store.read_ticks(SYMBOL))
    recorder.add(trade(4))
    clock.now_s = 4.9
    recorder.add(trade(5))
    before_due = len(store.read_ticks(SYMBOL))
    clock.now_s = 8.0
    written = recorder.flush_if_due()

    assert (held, after_batch, before_due) == (0, 3, 3)
    assert written == 2
    assert len(store.read_ticks(SYMBOL)) == 5
    assert recorder.pending == 0


def test_recorder_sink_failure_keeps_the_batch_for_the_next_flush(tmp_path: Path) -> None:
    # Arrange: the database's folder disappears under a running recorder
    folder = tmp_path / "db"
    folder.mkdir()
    first = CandleStore(folder / "ticks.db")
    recorder = TradeRecorder(first, batch_size=10)
    recorder.add(trade(1))
    first.close()
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()

    # Act: the flush fails; the folder is back; the next flush goes to a store there
    with pytest.raises(Exception, match="unable to open database file"):
        recorder.flush()
    folder.mkdir()
    with CandleStore(folder / "ticks.db") as second:
        recorder.sink = second
        written = recorder.flush()
        stored = second.read_ticks(SYMBOL)

    # Assert: the trade buffered before the failure was written, not lost
    assert written == 1
    assert [t.trade_id for t in stored] == ["1"]
