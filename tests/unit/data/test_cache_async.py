"""AsyncMarketDataManager over a real SimulatedConnector: same TTL and closed-candle rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal

import pandas as pd
import pytest

from tradebot.data.cache import (
    AsyncMarketDataManager,
    FrameFetcher,
    MarketDataManager,
    connector_fetcher,
)
from tradebot.data.frame import frame_to_candles
from tradebot.data.resample import resample
from tradebot.domain.errors import InvalidOrder
from tradebot.domain.market import Candle, Market
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.exchange.simulated_connector import SimulatedConnector
from tradebot.exchange.simulated_market import CandleHistory

MakeCandles = Callable[..., pd.DataFrame]
SYMBOL = "BTC/USDT"
MINUTE = 60_000
BARS = 3_000
NOW_BAR = 2_000  # the simulated clock starts as bar 2,000 opens: bars 0-1,999 have closed
MARKET = Market(
    SYMBOL, "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal(5)
)


class CountingFetch:
    """The connector fetcher, counting the requests it makes (to see the cache work)."""

    def __init__(self, sim: SimulatedConnector) -> None:
        self._inner = connector_fetcher(sim)
        self.calls: list[tuple[str, int]] = []

    async def __call__(
        self, symbol: str, timeframe: str, limit: int, now_ms: int
    ) -> pd.DataFrame | Sequence[Candle]:
        self.calls.append((timeframe, limit))
        return await self._inner(symbol, timeframe, limit, now_ms)


@pytest.fixture
def history(make_candles: MakeCandles) -> pd.DataFrame:
    return make_candles(BARS, "1m", price=95_000.0)


@pytest.fixture
def sim(history: pd.DataFrame) -> SimulatedConnector:
    start_ms = int(history["ts_ms"].iloc[NOW_BAR])
    candles = CandleHistory({SYMBOL: frame_to_candles(history)}, "1m", start_ms=start_ms)
    return SimulatedConnector(SimulatedExchange([MARKET], {"USDT": Decimal(1000)}), candles)


def manager_over(
    sim: SimulatedConnector, native_timeframes: list[str] | None = None
) -> tuple[AsyncMarketDataManager, CountingFetch]:
    """The live-side manager: the venue's clock, its candles through the port."""
    fetch = CountingFetch(sim)
    clock = lambda: sim.exchange.now_ms  # noqa: E731
    manager = AsyncMarketDataManager(fetch, clock, native_timeframes=native_timeframes)
    return manager, fetch


async def test_async_get_candles_returns_the_closed_bars_not_the_forming_one(
    sim: SimulatedConnector, history: pd.DataFrame
) -> None:
    manager, _ = manager_over(sim)

    got = await manager.get_candles(SYMBOL, "1m", 50)

    pd.testing.assert_frame_equal(got, history.iloc[NOW_BAR - 50 : NOW_BAR].reset_index(drop=True))


async def test_async_get_candles_within_ttl_reuses_then_refetches_after_a_bar_closes(
    sim: SimulatedConnector, history: pd.DataFrame
) -> None:
    manager, fetch = manager_over(sim)

    await manager.get_candles(SYMBOL, "1m", 20)
    again = await manager.get_candles(SYMBOL, "1m", 20)
    calls_before = len(fetch.calls)
    await sim.advance(1)
    after = await manager.get_candles(SYMBOL, "1m", 20)

    assert calls_before == 1
    assert again["ts_ms"].iloc[-1] == history["ts_ms"].iloc[NOW_BAR - 1]
    assert len(fetch.calls) == 2
    assert after["ts_ms"].iloc[-1] == history["ts_ms"].iloc[NOW_BAR]
    assert after["close"].iloc[-1] == history["close"].iloc[NOW_BAR]


async def test_async_concurrent_requests_for_one_series_share_one_fetch(
    sim: SimulatedConnector,
) -> None:
    manager, fetch = manager_over(sim)

    frames = await asyncio.gather(*(manager.get_candles(SYMBOL, "1m", 30) for _ in range(5)))

    assert fetch.calls == [("1m", 31)]
    assert all(f.equals(frames[0]) for f in frames)


async def test_async_higher_timeframe_is_resampled_from_paged_1m_bars(
    sim: SimulatedConnector, history: pd.DataFrame
) -> None:
    # Arrange: 100 closed 15m bars need 1,515 1m bars: more than one 1,000-bar request
    manager, fetch = manager_over(sim, native_timeframes=["1m"])
    closed_1m = history.iloc[:NOW_BAR]

    # Act
    got = await manager.get_candles(SYMBOL, "15m", 100)

    # Assert: the 15m bars of the closed history; the bin still forming is not among them
    expected = resample(closed_1m, "15m", "1m")
    expected = expected.loc[expected["ts_ms"] + 15 * MINUTE <= sim.exchange.now_ms]
    pd.testing.assert_frame_equal(got, expected.tail(100).reset_index(drop=True))
    assert fetch.calls == [("1m", 1515)]


async def test_async_view_equals_the_backtest_managers_view_at_the_same_time(
    sim: SimulatedConnector, history: pd.DataFrame
) -> None:
    # Arrange: the live manager over the venue; the backtest one over the history frame
    live, _ = manager_over(sim, native_timeframes=["1m"])
    await sim.advance(7)  # mid-hour: the current 1h bin has not closed
    now_ms = sim.exchange.now_ms
    backtest = MarketDataManager(
        FrameFetcher({(SYMBOL, "1m"): history}), lambda: now_ms, native_timeframes=["1m"]
    )

    # Act
    live_view = await live.higher_timeframe_view(SYMBOL, "1m", "1h", 120)
    backtest_view = backtest.higher_timeframe_view(SYMBOL, "1m", "1h", 120)

    # Assert
    pd.testing.assert_frame_equal(live_view, backtest_view)
    assert live_view["1h_close"].notna().all()


async def test_async_fetch_failure_propagates_and_caches_nothing(sim: SimulatedConnector) -> None:
    manager, fetch = manager_over(sim)

    with pytest.raises(InvalidOrder, match="ETH/USDT"):
        await manager.get_candles("ETH/USDT", "1m", 10)
    with pytest.raises(InvalidOrder):
        await manager.get_candles("ETH/USDT", "1m", 10)

    assert len(fetch.calls) == 2
