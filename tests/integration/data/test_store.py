"""CandleStore on a real SQLite file (and PostgreSQL when TRADEBOT_TEST_PG_URL is set)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tradebot.data.load import load_candles, sample_path, write_candle_file
from tradebot.data.store import CandleStore, StoredRange, Tick
from tradebot.domain.errors import DataError

MakeCandles = Callable[..., pd.DataFrame]
START_MS = 1_704_067_200_000
MINUTE = 60_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CandleStore]:
    """A store in a fresh SQLite file."""
    with CandleStore(tmp_path / "candles.db") as s:
        yield s


def _open_at_once(path: Path, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    CandleStore(path).close()


def test_store_opened_by_several_processes_at_once_creates_its_tables_once(
    tmp_path: Path,
) -> None:
    # Arrange: a bot recording trades and a `tradebot data` command open one new file at once
    forked = multiprocessing.get_context("fork")
    path = tmp_path / "shared.db"
    start = forked.Barrier(6)
    openers = [forked.Process(target=_open_at_once, args=(path, start)) for _ in range(6)]
    # Act
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(60)
    # Assert: none crashed on "table candles already exists", and the store works
    assert [opener.exitcode for opener in openers] == [0] * 6
    with CandleStore(path) as store:
        tick = Tick("BTC/USDT", START_MS, "1", 42_000.0, 0.5, "buy")
        store.write_ticks([tick])
        assert store.read_ticks("BTC/USDT") == [tick]


def test_store_write_read_round_trips_exactly(store: CandleStore) -> None:
    frame = load_candles(sample_path("binance_BTC-USDT_1m_2024-12.csv.gz"))
    assert store.write("BTC/USDT", "1m", frame) == 44_640
    pd.testing.assert_frame_equal(store.read("BTC/USDT", "1m"), frame)


def test_store_read_range_is_half_open(store: CandleStore, make_candles: MakeCandles) -> None:
    store.write("BTC/USDT", "1m", make_candles(100))
    out = store.read("BTC/USDT", "1m", START_MS + 10 * MINUTE, START_MS + 20 * MINUTE)
    assert out["ts_ms"].tolist() == [START_MS + m * MINUTE for m in range(10, 20)]


def test_store_write_upserts_existing_rows(store: CandleStore, make_candles: MakeCandles) -> None:
    # Arrange
    frame = make_candles(10)
    store.write("BTC/USDT", "1m", frame)
    corrected = frame.iloc[5:].assign(close=frame["close"].iloc[5:] + 1.0)
    # Act
    store.write("BTC/USDT", "1m", corrected)
    # Assert
    out = store.read("BTC/USDT", "1m")
    assert len(out) == 10
    assert out["close"].tolist() == [*frame["close"].iloc[:5], *corrected["close"]]


def test_store_keeps_symbols_and_timeframes_apart(
    store: CandleStore, make_candles: MakeCandles
) -> None:
    store.write("BTC/USDT", "1m", make_candles(10, seed=1))
    store.write("ETH/USDT", "1m", make_candles(20, seed=2))
    store.write("BTC/USDT", "1h", make_candles(5, timeframe="1h"))
    assert len(store.read("BTC/USDT", "1m")) == 10
    assert len(store.read("ETH/USDT", "1m")) == 20
    assert store.read("SOL/USDT", "1m").empty


def test_store_ranges_count_rows_and_gaps(store: CandleStore, make_candles: MakeCandles) -> None:
    # Arrange: minutes 30..34 and 60 missing
    frame = make_candles(100).drop(index=[*range(30, 35), 60]).reset_index(drop=True)
    store.write("BTC/USDT", "1m", frame)
    store.write("ETH/USDT", "1h", make_candles(48, timeframe="1h"))
    # Act
    ranges = store.ranges()
    # Assert
    assert ranges == [
        StoredRange("BTC/USDT", "1m", START_MS, START_MS + 99 * MINUTE, 94, 2, 6),
        StoredRange("ETH/USDT", "1h", START_MS, START_MS + 47 * 60 * MINUTE, 48, 0, 0),
    ]


def test_store_import_file_then_export_parquet_round_trips(
    store: CandleStore, tmp_path: Path, make_candles: MakeCandles
) -> None:
    # Arrange
    frame = make_candles(500)
    source = tmp_path / "in_BTC-USDT_1m.csv.gz"
    write_candle_file(frame, source)
    # Act
    assert store.import_file(source, "BTC/USDT", "1m") == 500
    target = tmp_path / "cold" / "BTC-USDT_1m.parquet"
    assert store.export_parquet("BTC/USDT", "1m", target, start_ms=START_MS + 100 * MINUTE) == 400
    # Assert
    back = load_candles(target)
    pd.testing.assert_frame_equal(back, frame.iloc[100:].reset_index(drop=True))


def test_store_import_bad_file_is_refused_and_writes_nothing(
    store: CandleStore, tmp_path: Path, make_candles: MakeCandles
) -> None:
    frame = make_candles(50).drop(index=[20]).reset_index(drop=True)
    source = tmp_path / "gappy_1m.parquet"
    write_candle_file(frame, source)
    with pytest.raises(DataError, match="1 missing candle"):
        store.import_file(source, "BTC/USDT", "1m")
    assert store.ranges() == []
    assert store.import_file(source, "BTC/USDT", "1m", repair="ffill") == 50


def test_store_export_empty_range_says_what_to_do(store: CandleStore, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="see `tradebot data list`"):
        store.export_file("BTC/USDT", "1m", tmp_path / "x.csv")


def test_store_ticks_round_trip_and_dedupe_by_trade_id(store: CandleStore) -> None:
    ticks = [
        Tick("BTC/USDT", START_MS + 5, "1001", 42_000.5, 0.01, "buy"),
        Tick("BTC/USDT", START_MS + 9, "1002", 42_001.0, 0.20, "sell"),
        Tick("ETH/USDT", START_MS + 7, "77", 2_300.0, 1.5, "buy"),
    ]
    store.write_ticks(ticks)
    store.write_ticks(ticks[:1])  # a reconnecting stream replays a trade
    assert store.read_ticks("BTC/USDT") == ticks[:2]
    assert store.read_ticks("BTC/USDT", start_ms=START_MS + 6) == ticks[1:2]


def test_store_data_survives_reopening_the_file(tmp_path: Path, make_candles: MakeCandles) -> None:
    frame = make_candles(30)
    with CandleStore(tmp_path / "c.db") as first:
        first.write("BTC/USDT", "1m", frame)
    with CandleStore(tmp_path / "c.db") as second:
        pd.testing.assert_frame_equal(second.read("BTC/USDT", "1m"), frame)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TRADEBOT_TEST_PG_URL"), reason="no PostgreSQL server")
def test_store_postgres_round_trip_and_ranges(make_candles: MakeCandles) -> None:
    with CandleStore(os.environ["TRADEBOT_TEST_PG_URL"]) as pg:
        pg.delete("TEST/USDT", "1m")
        frame = make_candles(200).drop(index=[50]).reset_index(drop=True)
        pg.write("TEST/USDT", "1m", frame)
        pg.write("TEST/USDT", "1m", frame.iloc[:10])
        pd.testing.assert_frame_equal(pg.read("TEST/USDT", "1m"), frame)
        mine = [r for r in pg.ranges() if r.symbol == "TEST/USDT"]
        assert mine == [
            StoredRange("TEST/USDT", "1m", START_MS, START_MS + 199 * MINUTE, 199, 1, 1)
        ]
        pg.delete("TEST/USDT", "1m")


def test_store_archive_moves_old_rows_to_parquet_and_reads_both(
    store: CandleStore, make_candles: MakeCandles
) -> None:
    # Arrange: minute 70 missing, so ranges must see a gap across the two tiers
    frame = make_candles(100).drop(index=[70]).reset_index(drop=True)
    store.write("BTC/USDT", "1m", frame)
    # Act
    moved = store.archive("BTC/USDT", "1m", before_ms=START_MS + 60 * MINUTE)
    # Assert
    assert moved == 60
    assert store.cold is not None
    assert len(load_candles(store.cold.path("BTC/USDT", "1m"))) == 60
    pd.testing.assert_frame_equal(store.read("BTC/USDT", "1m"), frame)
    window = store.read("BTC/USDT", "1m", START_MS + 55 * MINUTE, START_MS + 65 * MINUTE)
    assert window["ts_ms"].tolist() == [START_MS + m * MINUTE for m in range(55, 65)]
    assert store.ranges() == [
        StoredRange("BTC/USDT", "1m", START_MS, START_MS + 99 * MINUTE, 99, 1, 1)
    ]


def test_store_write_after_archive_overrides_cold_row(
    store: CandleStore, make_candles: MakeCandles
) -> None:
    frame = make_candles(20)
    store.write("BTC/USDT", "1m", frame)
    store.archive("BTC/USDT", "1m", before_ms=START_MS + 20 * MINUTE)
    store.write("BTC/USDT", "1m", frame.iloc[[3]].assign(close=123.0))
    out = store.read("BTC/USDT", "1m")
    assert len(out) == 20
    assert out.loc[3, "close"] == 123.0
    assert store.delete("BTC/USDT", "1m") == 21  # 1 warm row + 20 cold rows
    assert store.read("BTC/USDT", "1m").empty
