"""Quality checks on seeded synthetic frames (each with one planted problem) and real samples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tradebot.data.load import list_samples, load_candles, sample_path
from tradebot.data.quality import Issue, Severity, check_candles

MINUTE = 60_000
START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC, where the synthetic candles start
MakeCandles = Callable[..., pd.DataFrame]


def test_check_candles_bundled_samples_are_tradeable() -> None:
    for name in list_samples():
        # Arrange
        frame = load_candles(sample_path(name))
        # Act
        report = check_candles(frame)
        # Assert
        assert report.is_tradeable, report.to_text()
        assert report.gaps == ()
        assert report.errors == ()


def test_check_candles_clean_synthetic_has_no_findings(make_candles: MakeCandles) -> None:
    report = check_candles(make_candles(5_000), "1m")
    assert report.is_tradeable
    assert report.findings == ()
    assert report.rows == 5_000


def test_check_candles_gap_names_missing_range(make_candles: MakeCandles) -> None:
    # Arrange: remove minutes 100..104
    frame = make_candles(300).drop(index=range(100, 105)).reset_index(drop=True)
    # Act
    report = check_candles(frame, "1m")
    # Assert
    assert not report.is_tradeable
    (gap,) = report.gaps
    assert gap.start_ms == START_MS + 100 * MINUTE
    assert gap.end_ms == START_MS + 104 * MINUTE
    assert gap.missing == 5
    assert gap.row == 100
    assert "2024-01-01 01:40 UTC → 2024-01-01 01:44 UTC" in gap.describe()


def test_check_candles_duplicate_names_repeated_row(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame = pd.concat([frame.iloc[:21], frame.iloc[20:]], ignore_index=True)
    report = check_candles(frame, "1m")
    finding = report.finding(Issue.DUPLICATE)
    assert finding is not None
    assert finding.rows == (21,)
    assert finding.ts_ms == (START_MS + 20 * MINUTE,)
    assert not report.is_tradeable


def test_check_candles_swapped_rows_are_non_monotonic(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame.iloc[[10, 11]] = frame.iloc[[11, 10]].to_numpy()
    report = check_candles(frame, "1m")
    finding = report.finding(Issue.NON_MONOTONIC)
    assert finding is not None
    assert finding.rows == (11,)
    assert report.gaps == ()  # gaps are judged on the sorted timestamps


def test_check_candles_nan_names_row_and_utc_time(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame.loc[7, "close"] = np.nan
    report = check_candles(frame, "1m")
    finding = report.finding(Issue.NAN)
    assert finding is not None
    assert finding.rows == (7,)
    assert "rows 7 (2024-01-01 00:07 UTC)" in finding.describe()
    assert "ERROR 1 NaN values: rows 7" in report.to_text()


@pytest.mark.parametrize(
    ("column", "value"),
    [("high", 50.0), ("low", 500.0)],
)
def test_check_candles_inconsistent_ohlc_is_error(
    make_candles: MakeCandles, column: str, value: float
) -> None:
    frame = make_candles(50)
    frame.loc[30, column] = value
    report = check_candles(frame, "1m")
    finding = report.finding(Issue.OHLC)
    assert finding is not None
    assert finding.rows == (30,)
    assert finding.severity is Severity.ERROR


def test_check_candles_non_positive_price_is_error(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame.loc[3, ["open", "low"]] = 0.0
    finding = check_candles(frame, "1m").finding(Issue.NON_POSITIVE)
    assert finding is not None
    assert finding.rows == (3,)


def test_check_candles_misaligned_timestamp_is_error(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame.loc[12, "ts_ms"] += 30_000
    finding = check_candles(frame, "1m").finding(Issue.MISALIGNED)
    assert finding is not None
    assert finding.rows == (12,)


def test_check_candles_zero_volume_is_only_a_warning(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame.loc[[5, 6], "volume"] = 0.0
    report = check_candles(frame, "1m")
    finding = report.finding(Issue.ZERO_VOLUME)
    assert finding is not None
    assert finding.rows == (5, 6)
    assert report.is_tradeable


def test_check_candles_flash_crash_wick_is_outlier(make_candles: MakeCandles) -> None:
    # Arrange: one bar's low prints 30 % under the market, the close is untouched
    frame = make_candles(3_000, seed=11)
    frame.loc[1_500, "low"] = frame.loc[1_500, "low"] * 0.7
    # Act
    report = check_candles(frame, "1m")
    # Assert
    finding = report.finding(Issue.WICK_OUTLIER)
    assert finding is not None
    assert finding.rows == (1_500,)
    assert report.finding(Issue.RETURN_OUTLIER) is None


def test_check_candles_bad_close_tick_flags_spike_and_reversal(make_candles: MakeCandles) -> None:
    # Arrange: a single close printed 5 % high; the next bar reverts
    frame = make_candles(3_000, seed=3)
    frame.loc[2_000, ["close", "high"]] = frame.loc[2_000, "close"] * 1.05
    frame.loc[2_001, ["open", "high"]] = frame.loc[2_000, "close"]
    # Act
    finding = check_candles(frame, "1m").finding(Issue.RETURN_OUTLIER)
    # Assert
    assert finding is not None
    assert finding.rows == (2_000, 2_001)
    assert finding.severity is Severity.WARNING


def test_check_candles_ordinary_volatility_has_no_outliers(make_candles: MakeCandles) -> None:
    report = check_candles(make_candles(20_000, seed=5), "1m")
    assert report.finding(Issue.RETURN_OUTLIER) is None
    assert report.finding(Issue.WICK_OUTLIER) is None


def test_check_candles_timeframe_inferred_from_timestamps(make_candles: MakeCandles) -> None:
    report = check_candles(make_candles(100, timeframe="4h"))
    assert report.timeframe == "4h"


def test_finding_timestamps_convert_to_utc_datetimes(make_candles: MakeCandles) -> None:
    frame = make_candles(50)
    frame.loc[9, "volume"] = 0.0
    finding = check_candles(frame, "1m").finding(Issue.ZERO_VOLUME)
    assert finding is not None
    assert finding.times == (datetime(2024, 1, 1, 0, 9, tzinfo=UTC),)


def test_check_candles_empty_frame_reports_no_rows_and_is_not_tradeable(
    make_candles: MakeCandles,
) -> None:
    report = check_candles(make_candles(0), "1m")
    assert report.rows == 0
    assert not report.is_tradeable  # a header-only file backtests nothing
    assert "no rows: NOT tradeable" in report.to_text()
    assert "no candles" in report.to_text()
