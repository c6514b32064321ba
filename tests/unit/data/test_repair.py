"""Explicit repairs: refuse by default with a message that helps, drop and ffill on request."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tradebot.data.quality import check_candles
from tradebot.data.repair import enforce, fill_gaps, repair
from tradebot.data.repair_kind import Repair
from tradebot.domain.errors import DataError

MakeCandles = Callable[..., pd.DataFrame]
MINUTE = 60_000


def _messy(make_candles: MakeCandles) -> pd.DataFrame:
    # a duplicate of row 10, a NaN close at row 20, and minutes 40..42 missing
    frame = make_candles(60)
    frame.loc[20, "close"] = np.nan
    frame = frame.drop(index=[40, 41, 42])
    return pd.concat([frame.iloc[:11], frame.iloc[10:]], ignore_index=True)


def test_repair_refuse_raises_naming_rows_and_options(make_candles: MakeCandles) -> None:
    with pytest.raises(DataError) as info:
        repair(_messy(make_candles), "refuse", "1m")
    message = str(info.value)
    assert "1 duplicate timestamps: rows 11 (2024-01-01 00:10 UTC)" in message
    assert "1 NaN values: rows 21 (2024-01-01 00:20 UTC)" in message
    assert "3 missing candle(s) 2024-01-01 00:40 UTC → 2024-01-01 00:42 UTC" in message
    assert "repair='drop'" in message
    assert "repair='ffill'" in message


def test_repair_drop_removes_bad_rows_and_keeps_gaps(make_candles: MakeCandles) -> None:
    # Arrange
    messy = _messy(make_candles)
    # Act
    fixed = repair(messy, "drop", "1m")
    # Assert: 60 bars - 3 missing + 1 duplicate = 58 rows, less the duplicate and the NaN row
    assert len(messy) == 58
    assert len(fixed) == 56
    assert fixed["ts_ms"].is_monotonic_increasing
    assert fixed["ts_ms"].is_unique
    assert not fixed.isna().any().any()
    report = check_candles(fixed, "1m")
    assert report.errors == ()
    assert [g.missing for g in report.gaps] == [1, 3]  # the NaN row is now a gap too


def test_repair_drop_keeps_first_copy_of_duplicate(make_candles: MakeCandles) -> None:
    frame = make_candles(5)
    twin = frame.iloc[[2]].assign(close=frame.loc[2, "close"] + 1.0)
    messy = pd.concat([frame, twin], ignore_index=True)
    fixed = repair(messy, "drop", "1m")
    assert len(fixed) == 5
    assert fixed.loc[2, "close"] == frame.loc[2, "close"]


def test_repair_drop_sorts_unsorted_rows(make_candles: MakeCandles) -> None:
    frame = make_candles(30)
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    fixed = repair(shuffled, "drop", "1m")
    pd.testing.assert_frame_equal(fixed, frame)


def test_repair_ffill_fills_gaps_with_flat_zero_volume_candles(make_candles: MakeCandles) -> None:
    # Arrange
    messy = _messy(make_candles)
    # Act
    fixed = repair(messy, "ffill", "1m")
    # Assert
    assert len(fixed) == 60
    assert check_candles(fixed, "1m").is_tradeable
    prev_close = fixed.loc[39, "close"]
    for row in (40, 41, 42):
        bar = fixed.loc[row]
        assert bar["ts_ms"] - fixed.loc[0, "ts_ms"] == row * MINUTE
        assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (prev_close,) * 4
        assert bar["volume"] == 0.0
    assert fixed.loc[43, "close"] == messy.loc[41, "close"]  # real bars kept as they were


def test_fill_gaps_without_gaps_returns_same_rows(make_candles: MakeCandles) -> None:
    frame = make_candles(10)
    pd.testing.assert_frame_equal(fill_gaps(frame, "1m"), frame)


def test_enforce_clean_frame_passes_unchanged(make_candles: MakeCandles) -> None:
    frame = make_candles(100)
    assert enforce(frame, "1m") is frame


def test_repair_unknown_choice_is_refused(make_candles: MakeCandles) -> None:
    with pytest.raises(DataError, match="'patch' is not one of refuse, drop, ffill"):
        repair(make_candles(5), "patch", "1m")  # type: ignore[arg-type]


def test_enforce_finer_candles_than_declared_suggests_resampling_not_a_repair(
    make_candles: MakeCandles,
) -> None:
    # 5m candles declared 1h: "drop" would keep one 5-minute candle per hour and call it 1h
    five = make_candles(600, "5m")

    with pytest.raises(DataError) as info:
        enforce(five, "1h", source="BTCUSDT-5m.csv")

    message = str(info.value)
    assert "the timestamps are 5m apart, not 1h" in message
    assert "--timeframe 1h resamples" in message
    assert "repair='drop'" not in message
    assert "--repair" not in message


@pytest.mark.parametrize("how", ["drop", "ffill"])
def test_repair_of_candles_at_another_timeframe_is_refused(
    make_candles: MakeCandles, how: Repair
) -> None:
    with pytest.raises(DataError, match="the timestamps are 5m apart, not 1h"):
        repair(make_candles(600, "5m"), how, "1h")
