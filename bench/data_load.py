"""Benchmark: load one year (2024) of 1m BTC/USDT candles from CSV.gz, Parquet and the store.

Prints seconds for each path (best and median of 3 runs): the CSV, a Parquet file, the
store with the rows in SQLite (warm) and after ``archive`` moved them to its Parquet cold
tier; then the store's write time and a quality check over the full 2,059,120-row file.
Run: ``.venv/bin/python bench/data_load.py``. Exits 0 with a message when
``../shared/data`` is absent.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tradebot.data.load import load_candles, read_candle_file, write_candle_file
from tradebot.data.quality import check_candles
from tradebot.data.store import CandleStore

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BTC_1M = SHARED_DATA / "binance_BTC-USDT_1m.csv.gz"
START_MS, END_MS = 1_704_067_200_000, 1_735_689_600_000  # 2024, [start, end)
ROWS_2024 = 527_040


def timed(label: str, load: Callable[[], pd.DataFrame], runs: int = 3) -> pd.DataFrame:
    """Run ``load`` ``runs`` times, print best and median seconds, return the last frame."""
    seconds = []
    frame = pd.DataFrame()
    for _ in range(runs):
        began = time.perf_counter()
        frame = load()
        seconds.append(time.perf_counter() - began)
    if len(frame) != ROWS_2024:
        raise SystemExit(f"{label}: expected {ROWS_2024:,} rows, got {len(frame):,}")
    print(f"{label:<44} best {min(seconds):6.3f} s   median {statistics.median(seconds):6.3f} s")
    return frame


def main() -> None:
    """Run the benchmark and print its figures."""
    if not BTC_1M.exists():
        print(f"skipped: {BTC_1M} is absent (this benchmark needs ../shared/data)")
        sys.exit(0)
    print(f"2024 slice of {BTC_1M.name}: {ROWS_2024:,} 1m candles")
    csv = timed(
        "CSV.gz  load_candles (read + checks)",
        lambda: load_candles(BTC_1M, START_MS, END_MS, timeframe="1m"),
    )
    timed(
        "CSV.gz  read_candle_file (read only)",
        lambda: read_candle_file(BTC_1M, START_MS, END_MS),
    )
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "BTC-USDT_1m_2024.parquet"
        write_candle_file(csv, parquet)
        timed("Parquet load_candles (read + checks)", lambda: load_candles(parquet, timeframe="1m"))
        timed("Parquet read_candle_file (read only)", lambda: read_candle_file(parquet))
        with CandleStore(Path(tmp) / "candles.db") as store:
            began = time.perf_counter()
            store.write("BTC/USDT", "1m", csv)
            wrote_s = time.perf_counter() - began
            print(f"{'SQLite  CandleStore.write (upsert)':<44} {wrote_s:6.3f} s")
            stored = timed(
                "SQLite  CandleStore.read, rows in SQL (warm)",
                lambda: store.read("BTC/USDT", "1m", START_MS, END_MS),
            )
            began = time.perf_counter()
            store.archive("BTC/USDT", "1m", END_MS)
            moved_s = time.perf_counter() - began
            print(f"{'CandleStore.archive (SQL -> Parquet)':<44} {moved_s:6.3f} s")
            tiered = timed(
                "CandleStore.read, rows archived (cold)",
                lambda: store.read("BTC/USDT", "1m", START_MS, END_MS),
            )
    if not (stored.equals(csv) and tiered.equals(csv)):
        raise SystemExit("the store returned different candles than it was given")
    full = read_candle_file(BTC_1M)
    began = time.perf_counter()
    report = check_candles(full, "1m")
    elapsed = time.perf_counter() - began
    print(f"{'check_candles on the full file':<44} {elapsed:6.3f} s ({len(full):,} rows)")
    print(report.to_text(limit=3))


if __name__ == "__main__":
    main()
