"""MarketDataManager: TTL cache, closed candles only, resampled higher timeframes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import pytest

from tradebot.data.cache import FrameFetcher, MarketDataManager
from tradebot.data.frame import frame_to_candles
from tradebot.data.resample import resample
from tradebot.domain.errors import DataError
from tradebot.domain.market import Candle

MakeCandles = Callable[..., pd.DataFrame]
START_MS = 1_704_067_200_000
MINUTE = 60_000
HOUR = 60 * MINUTE


class ManualClock:
    """A clock the test moves by hand (what a backtest's replay clock does)."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


class CountingFetcher:
    """FrameFetcher that records its calls, so tests can see the cache working."""

    def __init__(self, frames: dict[tuple[str, str], pd.DataFrame]) -> None:
        self._inner = FrameFetcher(frames)
        self.calls: list[tuple[str, str, int, int]] = []

    def __call__(self, symbol: str, timeframe: str, limit: int, now_ms: int) -> pd.DataFrame:
        self.calls.append((symbol, timeframe, limit, now_ms))
        return self._inner(symbol, timeframe, limit, now_ms)


def _manager(
    make_candles: MakeCandles, now_ms: int, **kwargs: object
) -> tuple[MarketDataManager, CountingFetcher, ManualClock, pd.DataFrame]:
    history = make_candles(24 * 60, timeframe="1m")
    fetch = CountingFetcher({("BTC/USDT", "1m"): history})
    clock = ManualClock(now_ms)
    return MarketDataManager(fetch, clock, **kwargs), fetch, clock, history  # type: ignore[arg-type]


def test_get_candles_returns_only_closed_candles(make_candles: MakeCandles) -> None:
    # Arrange: 10:30:30, the 10:30 bar is still forming
    manager, _, _, history = _manager(make_candles, START_MS + 630 * MINUTE + 30_000)
    # Act
    out = manager.get_candles("BTC/USDT", "1m", limit=5)
    # Assert
    assert out["ts_ms"].tolist() == [START_MS + m * MINUTE for m in range(625, 630)]
    assert out["close"].tolist() == history["close"].iloc[625:630].tolist()


def test_get_candles_within_ttl_hits_cache(make_candles: MakeCandles) -> None:
    manager, fetch, clock, _ = _manager(make_candles, START_MS + 100 * MINUTE, ttl_ms=60_000)
    manager.get_candles("BTC/USDT", "1m", 10)
    clock.now_ms += 20_000
    manager.get_candles("BTC/USDT", "1m", 10)
    assert len(fetch.calls) == 1


def test_get_candles_refetches_when_a_new_bar_closed(make_candles: MakeCandles) -> None:
    # Arrange: a long TTL must not hide the bar that closes at 01:41
    manager, fetch, clock, _ = _manager(
        make_candles, START_MS + 100 * MINUTE + 50_000, ttl_ms=10 * MINUTE
    )
    first = manager.get_candles("BTC/USDT", "1m", 3)
    # Act
    clock.now_ms += 15_000
    second = manager.get_candles("BTC/USDT", "1m", 3)
    # Assert
    assert len(fetch.calls) == 2
    assert second["ts_ms"].iloc[-1] == first["ts_ms"].iloc[-1] + MINUTE


def test_get_candles_after_ttl_refetches(make_candles: MakeCandles) -> None:
    manager, fetch, clock, _ = _manager(make_candles, START_MS + 100 * MINUTE, ttl_ms=5_000)
    manager.get_candles("BTC/USDT", "1m", 10)
    clock.now_ms += 5_000
    manager.get_candles("BTC/USDT", "1m", 10)
    assert len(fetch.calls) == 2


def test_get_candles_builds_higher_timeframe_by_resampling(make_candles: MakeCandles) -> None:
    # Arrange: only 1m is served; 15m is derived
    manager, _, _, history = _manager(
        make_candles, START_MS + 5 * HOUR + 7 * MINUTE, native_timeframes=["1m"]
    )
    # Act
    out = manager.get_candles("BTC/USDT", "15m", limit=4)
    # Assert: the 05:00 bin is still forming, so the last bin is 04:45
    expected = resample(history, "15m")
    expected = expected[expected["ts_ms"] < START_MS + 5 * HOUR].tail(4).reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected)


def test_get_candles_unreachable_timeframe_is_refused(make_candles: MakeCandles) -> None:
    manager, _, _, _ = _manager(make_candles, START_MS + HOUR, native_timeframes=["1h"])
    with pytest.raises(DataError, match="timeframe 1m is neither served nor a multiple"):
        manager.get_candles("BTC/USDT", "1m", 10)


def test_higher_timeframe_view_sees_only_closed_higher_bars(make_candles: MakeCandles) -> None:
    manager, _, _, history = _manager(
        make_candles, START_MS + 3 * HOUR + 20 * MINUTE, native_timeframes=["1m"]
    )
    view = manager.higher_timeframe_view("BTC/USDT", "1m", "1h", limit=30)
    # 02:50..03:19 closes: bars up to 02:59 see the 01:00 hour, later ones the 02:00 hour
    hourly = resample(history, "1h").set_index("ts_ms")["close"]
    before = view[view["ts_ms"] < START_MS + 3 * HOUR - MINUTE]
    after = view[view["ts_ms"] >= START_MS + 3 * HOUR - MINUTE]
    assert (before["1h_close"] == hourly[START_MS + HOUR]).all()
    assert (after["1h_close"] == hourly[START_MS + 2 * HOUR]).all()


def test_get_candles_accepts_domain_candles_from_fetch(make_candles: MakeCandles) -> None:
    history = make_candles(10)

    def fetch(symbol: str, timeframe: str, limit: int, now_ms: int) -> Sequence[Candle]:
        return frame_to_candles(history)  # a live exchange may return a forming bar too

    manager = MarketDataManager(fetch, ManualClock(START_MS + 9 * MINUTE + 1))
    out = manager.get_candles("BTC/USDT", "1m", 100)
    assert len(out) == 9


def test_frame_fetcher_unknown_series_names_what_is_loaded(make_candles: MakeCandles) -> None:
    fetch = FrameFetcher({("BTC/USDT", "1m"): make_candles(5)})
    with pytest.raises(DataError, match=r"no ETH/USDT 1h history loaded \(have: BTC/USDT 1m\)"):
        fetch("ETH/USDT", "1h", 10, START_MS)


def test_invalidate_forces_refetch(make_candles: MakeCandles) -> None:
    manager, fetch, _, _ = _manager(make_candles, START_MS + 100 * MINUTE)
    manager.get_candles("BTC/USDT", "1m", 10)
    manager.invalidate(symbol="BTC/USDT")
    manager.get_candles("BTC/USDT", "1m", 10)
    assert len(fetch.calls) == 2
