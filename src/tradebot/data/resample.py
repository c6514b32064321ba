"""Resample candles to a higher timeframe, and align a higher timeframe without lookahead.

Bins are labelled by their START (the CCXT convention: a 4h candle stamped 08:00 covers
08:00-11:59). A bin's candle is first open, max high, min low, last close, summed volume of
the source bars in it. A bin that is not complete at either end of the data is dropped: the
last one is still forming, and a first one that starts mid-bin has no real open. Bins with
missing bars inside (an exchange halt) are kept, like the exchange's own candles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradebot.data.frame import (
    VALUE_COLUMNS,
    bin_start,
    candles_from_arrays,
    fmt_ts,
    infer_timeframe,
)
from tradebot.domain.errors import DataError
from tradebot.domain.market import timeframe_to_ms


def resample(
    frame: pd.DataFrame, timeframe: str, source_timeframe: str | None = None
) -> pd.DataFrame:
    """Aggregate a sorted candle frame into ``timeframe`` candles (see the module docstring).

    Raises:
        DataError: the frame is unsorted, the source timeframe is unknown, or ``timeframe``
            is not a whole multiple of it.
    """
    ts = frame["ts_ms"].to_numpy(np.int64)
    if ts.size == 0:
        return frame.copy()
    src_tf = source_timeframe or infer_timeframe(ts)
    if src_tf is None:
        raise DataError("cannot infer the source timeframe; pass source_timeframe=")
    src_ms, dst_ms = timeframe_to_ms(src_tf), timeframe_to_ms(timeframe)
    if dst_ms % src_ms or dst_ms < src_ms:
        raise DataError(f"cannot resample {src_tf} candles to {timeframe}: not a whole multiple")
    if (np.diff(ts) <= 0).any():
        raise DataError("resample needs sorted candles without duplicates; repair them first")
    bins = bin_start(ts, timeframe)
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    ends = np.r_[starts[1:], ts.size] - 1
    keep = np.ones(starts.size, dtype=bool)
    keep[0] = ts[0] == bins[0]
    keep[-1] &= ts[-1] + src_ms == bins[-1] + dst_ms
    o, h, lo, c, v = (frame[name].to_numpy(np.float64) for name in VALUE_COLUMNS)
    out = candles_from_arrays(
        bins[starts],
        o[starts],
        np.maximum.reduceat(h, starts),
        np.minimum.reduceat(lo, starts),
        c[ends],
        np.add.reduceat(v, starts),
    )
    return out.loc[keep].reset_index(drop=True)


def align_higher_timeframe(
    lower: pd.DataFrame,
    higher: pd.DataFrame,
    higher_timeframe: str,
    lower_timeframe: str | None = None,
    prefix: str | None = None,
) -> pd.DataFrame:
    """Give each lower bar the latest higher bar that had CLOSED by the lower bar's close.

    A 1h bar opening 13:00 closes at 14:00; the 4h bar opening 12:00 closes at 16:00, so the
    1h bar sees the 4h bar of 08:00. The 1h bar opening 15:00 closes at 16:00 and sees the
    12:00 bar: at that moment it has closed too. Returns ``lower`` with the higher frame's
    columns added as ``<prefix><column>`` (default prefix ``"<higher_timeframe>_"``, e.g.
    ``4h_close``) and ``<prefix>ts_ms``; rows before the first closed higher bar get NaN
    (and ts -1).

    Raises:
        DataError: the lower timeframe cannot be inferred.
    """
    pre = prefix if prefix is not None else f"{higher_timeframe}_"
    low_ts = lower["ts_ms"].to_numpy(np.int64)
    tf = lower_timeframe or infer_timeframe(low_ts)
    if tf is None:
        raise DataError("cannot infer the lower timeframe; pass lower_timeframe=")
    high_ts = higher["ts_ms"].to_numpy(np.int64)
    high_close_ms = high_ts + timeframe_to_ms(higher_timeframe)
    idx = np.searchsorted(high_close_ms, low_ts + timeframe_to_ms(tf), side="right") - 1
    seen = idx >= 0
    out = lower.copy()
    out[f"{pre}ts_ms"] = np.where(seen, high_ts[np.maximum(idx, 0)] if high_ts.size else -1, -1)
    for name in higher.columns:
        if name == "ts_ms" or not pd.api.types.is_numeric_dtype(higher[name]):
            continue
        values = higher[name].to_numpy(np.float64)
        picked = values[np.maximum(idx, 0)] if values.size else np.full(idx.size, np.nan)
        out[f"{pre}{name}"] = np.where(seen, picked, np.nan)
    return out


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """Higher-timeframe candles compared with a resample of lower-timeframe ones."""

    compared: int
    mismatched_ts_ms: tuple[int, ...]

    @property
    def is_consistent(self) -> bool:
        """True when every overlapping bar agrees."""
        return not self.mismatched_ts_ms

    def describe(self, limit: int = 5) -> str:
        """One line: bars compared and the first that differ (UTC)."""
        if self.is_consistent:
            return f"{self.compared:,} overlapping bars agree with the resampled lower timeframe"
        times = ", ".join(fmt_ts(t) for t in self.mismatched_ts_ms[:limit])
        return (
            f"{len(self.mismatched_ts_ms):,} of {self.compared:,} overlapping bars differ from "
            f"the resampled lower timeframe: {times}"
        )


def cross_check(
    lower: pd.DataFrame,
    higher: pd.DataFrame,
    higher_timeframe: str,
    lower_timeframe: str | None = None,
    rtol: float = 1e-9,
) -> CrossCheck:
    """Compare ``higher`` with ``resample(lower)`` on the bars both have.

    Prices must agree to ``rtol``; volumes to 1e-6 relative (sums of floats round).

    Raises:
        DataError: as ``resample``.
    """
    derived = resample(lower, higher_timeframe, lower_timeframe)
    both = derived.merge(higher, on="ts_ms", suffixes=("_low", "_high"))
    bad = np.zeros(len(both), dtype=bool)
    for name in VALUE_COLUMNS:
        tol = 1e-6 if name == "volume" else rtol
        low, high = both[f"{name}_low"].to_numpy(), both[f"{name}_high"].to_numpy()
        bad |= ~np.isclose(low, high, rtol=tol, atol=0.0)
    return CrossCheck(len(both), tuple(both["ts_ms"].to_numpy()[bad].tolist()))
