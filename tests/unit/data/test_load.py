"""Loading candle files: the bundled samples, slices, formats and refusals."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradebot.data.frame import CANDLE_COLUMNS, candles_to_frame, frame_to_candles
from tradebot.data.load import (
    list_samples,
    load_candles,
    read_candle_file,
    sample_path,
    write_candle_file,
)
from tradebot.domain.errors import DataError

MakeCandles = Callable[..., pd.DataFrame]
DEC_2024_MS = 1_733_011_200_000


def test_list_samples_names_bundled_files() -> None:
    assert list_samples() == [
        "binance_BTC-USDT_1h_2024.csv.gz",
        "binance_BTC-USDT_1m_2024-12.csv.gz",
        "binance_ETH-USDT_1h_2024Q4.csv.gz",
    ]


def test_sample_path_unknown_name_lists_choices() -> None:
    with pytest.raises(DataError, match=r"choose one of: binance_BTC-USDT_1h_2024\.csv\.gz"):
        sample_path("nope.csv")


def test_load_candles_sample_has_canonical_layout() -> None:
    frame = load_candles(sample_path("binance_BTC-USDT_1m_2024-12.csv.gz"))
    assert list(frame.columns) == list(CANDLE_COLUMNS)
    assert frame["ts_ms"].dtype == np.int64
    assert all(frame[c].dtype == np.float64 for c in CANDLE_COLUMNS[1:])
    assert isinstance(frame.index, pd.RangeIndex)
    assert len(frame) == 44_640
    assert frame["ts_ms"].iloc[0] == DEC_2024_MS
    # first real Binance bar of December 2024
    assert frame.loc[0, ["open", "high", "low", "close"]].tolist() == [
        96407.99,
        96411.99,
        96376.0,
        96376.0,
    ]


def test_load_candles_slice_is_half_open() -> None:
    hour = 3_600_000
    frame = load_candles(
        sample_path("binance_BTC-USDT_1h_2024.csv.gz"),
        start_ms=DEC_2024_MS,
        end_ms=DEC_2024_MS + 24 * hour,
    )
    assert len(frame) == 24
    assert frame["ts_ms"].iloc[0] == DEC_2024_MS
    assert frame["ts_ms"].iloc[-1] == DEC_2024_MS + 23 * hour


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_write_then_load_round_trips_exactly(
    tmp_path: Path, make_candles: MakeCandles, suffix: str
) -> None:
    frame = make_candles(1_000)
    path = tmp_path / f"x_BTC-USDT_1m{suffix}"
    assert write_candle_file(frame, path) == 1_000
    pd.testing.assert_frame_equal(load_candles(path), frame)


def test_write_csv_uses_shared_header(tmp_path: Path, make_candles: MakeCandles) -> None:
    path = tmp_path / "a_1m.csv.gz"
    write_candle_file(make_candles(3), path)
    with gzip.open(path, "rt") as f:
        assert f.readline() == "timestamp,open,high,low,close,volume\n"


def test_load_candles_nan_row_refused_then_dropped(tmp_path: Path) -> None:
    # Arrange: a hand-written file with an empty close in its third row
    path = tmp_path / "hand_ETH-USDT_1h.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "1704067200000,10,11,9,10.5,1\n"
        "1704070800000,10.5,12,10,11,2\n"
        "1704074400000,11,12,10,,3\n"
        "1704078000000,11,12,10,11.5,4\n"
    )
    # Act / Assert
    with pytest.raises(DataError, match=r"NaN values: rows 2 \(2024-01-01 02:00 UTC\)"):
        load_candles(path)
    dropped = load_candles(path, repair="drop")
    filled = load_candles(path, repair="ffill")
    assert dropped["close"].tolist() == [10.5, 11.0, 11.5]
    assert filled["close"].tolist() == [10.5, 11.0, 11.0, 11.5]
    assert filled["volume"].tolist() == [1.0, 2.0, 0.0, 4.0]


def test_load_candles_unsorted_file_is_refused(tmp_path: Path, make_candles: MakeCandles) -> None:
    path = tmp_path / "u_1m.csv"
    write_candle_file(make_candles(10).iloc[::-1], path)
    with pytest.raises(DataError, match="non-monotonic timestamps: rows 1, 2, 3"):
        load_candles(path)


def test_load_candles_missing_file_says_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_candles(tmp_path / "absent_1m.csv.gz")


def test_load_candles_missing_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad_1m.csv"
    path.write_text("timestamp,open,high,low,close\n1704067200000,1,1,1,1\n")
    with pytest.raises(DataError, match="missing column"):
        read_candle_file(path)


def test_load_candles_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown candle file type"):
        load_candles(tmp_path / "candles.xlsx")


def test_frame_candles_round_trip(make_candles: MakeCandles) -> None:
    frame = make_candles(20)
    pd.testing.assert_frame_equal(candles_to_frame(frame_to_candles(frame)), frame)
