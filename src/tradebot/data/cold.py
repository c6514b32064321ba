"""ColdStore: history in one Parquet file per (symbol, timeframe), the store's fast read path.

The design keeps warm data (recent weeks) in SQL and cold history in Parquet. Reading a year
of 1m candles back out of SQLite costs about a second in Python row objects; the same year
from Parquet costs well under a tenth of that. ``CandleStore.archive`` moves old rows here
and ``CandleStore.read`` merges both tiers, so callers never choose.

Files are ``<root>/<BASE-QUOTE>/<timeframe>.parquet``, sorted by ``ts_ms``, written to a
temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from tradebot.data.frame import IntArray
from tradebot.data.load import read_candle_file, write_candle_file


class ColdStore:
    """Parquet files of candles under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, symbol: str, timeframe: str) -> Path:
        """The file of one series (symbols' ``/`` becomes ``-``)."""
        return self.root / symbol.replace("/", "-") / f"{timeframe}.parquet"

    def series(self) -> list[tuple[str, str]]:
        """Every (symbol, timeframe) with a cold file."""
        if not self.root.is_dir():
            return []
        return sorted(
            (folder.name.replace("-", "/", 1), file.stem)
            for folder in self.root.iterdir()
            if folder.is_dir()
            for file in folder.glob("*.parquet")
            if not file.name.endswith(".partial.parquet")
        )

    def read(
        self, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> pd.DataFrame | None:
        """Cold candles of ``[start_ms, end_ms)``, or None when there is no file."""
        path = self.path(symbol, timeframe)
        return read_candle_file(path, start_ms, end_ms) if path.is_file() else None

    def timestamps(self, symbol: str, timeframe: str) -> IntArray:
        """Only the ``ts_ms`` column (for ranges and gap counts)."""
        path = self.path(symbol, timeframe)
        if not path.is_file():
            return np.empty(0, np.int64)
        table = pq.read_table(path, columns=["ts_ms"])
        return np.asarray(table.column("ts_ms").to_numpy(), dtype=np.int64)

    def merge(self, symbol: str, timeframe: str, frame: pd.DataFrame) -> int:
        """Add candles to the series' file (new rows win on equal ``ts_ms``); returns rows."""
        old = self.read(symbol, timeframe)
        merged = frame if old is None else pd.concat([old, frame], ignore_index=True)
        merged = merged.drop_duplicates("ts_ms", keep="last").sort_values("ts_ms")
        target = self.path(symbol, timeframe)
        partial = target.with_name(target.name + ".partial.parquet")
        write_candle_file(merged.reset_index(drop=True), partial)
        partial.replace(target)
        return len(merged)

    def delete(self, symbol: str, timeframe: str) -> int:
        """Remove the series' file; returns the rows it held."""
        rows = self.timestamps(symbol, timeframe).size
        self.path(symbol, timeframe).unlink(missing_ok=True)
        return int(rows)
