"""Resampling against real Binance candles, and higher-timeframe alignment without lookahead."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tradebot.data.load import load_candles, sample_path
from tradebot.data.resample import align_higher_timeframe, cross_check, resample
from tradebot.domain.errors import DataError

MakeCandles = Callable[..., pd.DataFrame]
HOUR = 3_600_000
START_MS = 1_704_067_200_000  # Monday 2024-01-01 00:00 UTC


def test_resample_real_1m_to_1h_matches_bundled_1h() -> None:
    # Arrange: December 2024 in 1m, and the same month in the bundled 1h file
    minutes = load_candles(sample_path("binance_BTC-USDT_1m_2024-12.csv.gz"))
    hours = load_candles(sample_path("binance_BTC-USDT_1h_2024.csv.gz"), start_ms=1733011200000)
    # Act
    resampled = resample(minutes, "1h")
    # Assert
    assert len(resampled) == 744
    pd.testing.assert_frame_equal(resampled, hours, check_exact=False, rtol=1e-12)


def test_resample_aggregates_first_max_min_last_sum(make_candles: MakeCandles) -> None:
    frame = make_candles(8, timeframe="1h")
    out = resample(frame, "4h")
    assert out["ts_ms"].tolist() == [START_MS, START_MS + 4 * HOUR]
    first = frame.iloc[:4]
    assert out.loc[0, "open"] == first["open"].iloc[0]
    assert out.loc[0, "high"] == first["high"].max()
    assert out.loc[0, "low"] == first["low"].min()
    assert out.loc[0, "close"] == first["close"].iloc[-1]
    assert out.loc[0, "volume"] == pytest.approx(first["volume"].sum())


def test_resample_drops_incomplete_last_and_first_bins(make_candles: MakeCandles) -> None:
    # 02:00 .. 13:00: the 00:00 bin lacks its open, the 12:00 bin is still forming
    frame = make_candles(12, timeframe="1h", start_ms=START_MS + 2 * HOUR)
    out = resample(frame, "4h")
    assert out["ts_ms"].tolist() == [START_MS + 4 * HOUR, START_MS + 8 * HOUR]


def test_resample_weekly_bins_start_on_monday(make_candles: MakeCandles) -> None:
    frame = make_candles(21, timeframe="1d", start_ms=START_MS - 3 * 24 * HOUR)  # from Friday
    out = resample(frame, "1w")
    assert out["ts_ms"].tolist() == [START_MS, START_MS + 7 * 24 * HOUR]


def test_resample_to_non_multiple_is_refused(make_candles: MakeCandles) -> None:
    with pytest.raises(DataError, match="cannot resample 1h candles to 90m"):
        resample(make_candles(10, timeframe="1h"), "90m")


def test_align_higher_timeframe_never_sees_own_bin_close(make_candles: MakeCandles) -> None:
    # Arrange
    hours = make_candles(24 * 5, timeframe="1h")
    four = resample(hours, "4h")
    # Act
    view = align_higher_timeframe(hours, four, "4h")
    # Assert: every 1h bar sees a 4h bar that closed by its own close, and the latest one
    seen_ts = view["4h_ts_ms"].to_numpy()
    own_close = view["ts_ms"].to_numpy() + HOUR
    has = seen_ts >= 0
    assert (seen_ts[has] + 4 * HOUR <= own_close[has]).all()
    assert (own_close[has] - (seen_ts[has] + 4 * HOUR) < 4 * HOUR).all()
    # the 13:00 bar (inside the 12:00-16:00 bin) sees the 08:00 bar, not its own bin's close
    row_13h = view.loc[view["ts_ms"] == START_MS + 13 * HOUR].iloc[0]
    bin_12h = four.loc[four["ts_ms"] == START_MS + 12 * HOUR].iloc[0]
    bin_08h = four.loc[four["ts_ms"] == START_MS + 8 * HOUR].iloc[0]
    assert row_13h["4h_close"] == bin_08h["close"]
    assert row_13h["4h_close"] != bin_12h["close"]
    # the 15:00 bar closes at 16:00, when the 12:00 bin has closed too
    row_15h = view.loc[view["ts_ms"] == START_MS + 15 * HOUR].iloc[0]
    assert row_15h["4h_close"] == bin_12h["close"]


def test_align_higher_timeframe_before_first_close_is_nan(make_candles: MakeCandles) -> None:
    hours = make_candles(8, timeframe="1h")
    view = align_higher_timeframe(hours, resample(hours, "4h"), "4h")
    assert np.isnan(view["4h_close"].iloc[:3]).all()
    assert (view["4h_ts_ms"].iloc[:3] == -1).all()
    assert view["4h_close"].iloc[3] == hours["close"].iloc[3]


def test_align_higher_timeframe_truncation_does_not_change_past(make_candles: MakeCandles) -> None:
    # lookahead check: cutting the future off leaves every earlier row unchanged
    hours = make_candles(24 * 4, timeframe="1h", seed=9)
    full = align_higher_timeframe(hours, resample(hours, "4h"), "4h")
    for cut in (37, 50, 77):
        part = hours.iloc[:cut]
        short = align_higher_timeframe(part, resample(part, "4h"), "4h")
        pd.testing.assert_frame_equal(short, full.iloc[:cut])


def test_cross_check_real_1h_sample_agrees_with_1m_sample() -> None:
    minutes = load_candles(sample_path("binance_BTC-USDT_1m_2024-12.csv.gz"))
    hours = load_candles(sample_path("binance_BTC-USDT_1h_2024.csv.gz"))
    result = cross_check(minutes, hours, "1h")
    assert result.compared == 744
    assert result.is_consistent


def test_cross_check_names_the_bar_that_differs(make_candles: MakeCandles) -> None:
    # Arrange: a 4h file whose 08:00 high disagrees with its 1h bars
    hours = make_candles(24, timeframe="1h")
    four = resample(hours, "4h")
    four.loc[2, "high"] *= 1.01
    # Act
    result = cross_check(hours, four, "4h")
    # Assert
    assert result.compared == 6
    assert result.mismatched_ts_ms == (START_MS + 8 * HOUR,)
    assert "1 of 6 overlapping bars differ" in result.describe()
    assert "2024-01-01 08:00 UTC" in result.describe()
