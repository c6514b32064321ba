"""Candles written once to read-only memory-mapped files that every worker opens by path.

Why: an optimisation runs hundreds of backtests over the same candles in several processes.
Pickling the frame to each trial (or loading a copy per worker, as freqtrade's hyperopt does)
multiplies memory by the workers; numpy files opened with ``mmap_mode="r"`` are pages of the
operating system's cache, shared by every process that maps them and never copied to a heap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_TS_FILE = "ts_ms.npy"
_PRICE_FILE = "ohlcv.npy"


@dataclass(frozen=True, slots=True)
class CandleArrays:
    """Candles as arrays: ``ts_ms`` (int64) and ``ohlcv`` (float64, one row per column).

    ``ohlcv[0]`` is every open, ``ohlcv[3]`` every close: each column contiguous, so a
    column read from a mapped file touches only that column's pages.
    """

    ts_ms: npt.NDArray[np.int64]
    ohlcv: npt.NDArray[np.float64]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CandleArrays:
        """Take ``ts_ms`` and the OHLCV columns of a normalized candle frame."""
        ts = frame["ts_ms"].to_numpy(np.int64)
        ohlcv = np.vstack([frame[c].to_numpy(np.float64) for c in _PRICE_COLUMNS])
        return cls(ts, ohlcv)

    def frame(self) -> pd.DataFrame:
        """A candle frame over these arrays, without copying them."""
        columns: dict[str, npt.NDArray[np.int64] | npt.NDArray[np.float64]] = {"ts_ms": self.ts_ms}
        columns.update({name: self.ohlcv[k] for k, name in enumerate(_PRICE_COLUMNS)})
        return pd.DataFrame(columns, copy=False)

    @property
    def nbytes(self) -> int:
        """Bytes the arrays hold."""
        return int(self.ts_ms.nbytes + self.ohlcv.nbytes)


def write_candles(frame: pd.DataFrame, folder: Path) -> Path:
    """Write ``frame``'s candles into ``folder`` (created) as numpy files; return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = CandleArrays.from_frame(frame)
    np.save(folder / _TS_FILE, arrays.ts_ms, allow_pickle=False)
    np.save(folder / _PRICE_FILE, arrays.ohlcv, allow_pickle=False)
    return folder


def open_candles(folder: Path) -> CandleArrays:
    """Map the candles ``write_candles`` wrote, read-only: no copy, pages shared by processes."""
    ts = np.load(folder / _TS_FILE, mmap_mode="r", allow_pickle=False)
    ohlcv = np.load(folder / _PRICE_FILE, mmap_mode="r", allow_pickle=False)
    return CandleArrays(ts, ohlcv)
