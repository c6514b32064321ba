"""Explicit repairs of bad candle data, and the gate that refuses it by default.

Nothing is ever repaired silently. The caller names the repair:

* ``"refuse"`` (the default everywhere): raise ``DataError`` naming the rows and the options.
  Candles of another timeframe than the one declared are refused with no repair offered
  (``quality.timeframe_mismatch``): they need resampling or the right timeframe, not rows
  dropped or invented.
* ``"drop"``: sort by time and remove rows with an error finding (duplicate timestamps keep
  their first row; NaN, misaligned, non-positive, negative-volume and OHLC-inconsistent rows
  go). Gaps stay gaps: the caller accepts trading across them.
* ``"ffill"``: ``"drop"``, then fill every gap with flat candles (open = high = low = close =
  the previous close, volume 0), the convention of exchanges for minutes without trades.

Outliers and zero-volume bars are warnings, never repaired: they are often real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradebot.data.frame import candles_from_arrays, infer_timeframe
from tradebot.data.quality import (
    bad_row_mask,
    check_candles,
    refuse_message,
    timeframe_mismatch,
)
from tradebot.data.repair_kind import Repair
from tradebot.domain.errors import DataError
from tradebot.domain.market import timeframe_to_ms

REPAIRS: tuple[Repair, ...] = ("refuse", "drop", "ffill")


def repair(frame: pd.DataFrame, how: Repair, timeframe: str | None = None) -> pd.DataFrame:
    """Return ``frame`` repaired as ``how`` says (see the module docstring).

    Raises:
        DataError: ``how`` is ``"refuse"`` and the data is not tradeable, or ``how`` is unknown.
    """
    if how not in REPAIRS:
        raise DataError(f"repair {how!r} is not one of {', '.join(REPAIRS)}")
    tf = timeframe or infer_timeframe(frame["ts_ms"].to_numpy(np.int64))
    if how == "refuse" or tf is None:
        return enforce(frame, timeframe, "refuse")
    mismatch = timeframe_mismatch(frame, tf)
    if mismatch is not None:
        raise DataError(f"repair {how!r} refused: {mismatch}")
    dropped = _drop_bad_rows(frame, tf)
    return fill_gaps(dropped, tf) if how == "ffill" else dropped


def enforce(
    frame: pd.DataFrame, timeframe: str | None, how: Repair = "refuse", source: str = "data"
) -> pd.DataFrame:
    """Apply ``how``; with ``"refuse"`` return ``frame`` unchanged only if it is tradeable.

    Raises:
        DataError: refused data (the message lists rows, gaps and the repair options).
    """
    if frame.empty:
        return frame  # nothing to trade is the caller's message to give (which file, which range)
    if how != "refuse":
        return repair(frame, how, timeframe)
    mismatch = None if timeframe is None else timeframe_mismatch(frame, timeframe)
    if mismatch is not None:
        raise DataError(f"{source}: {mismatch}")
    report = check_candles(frame, timeframe)
    if not report.is_tradeable:
        raise DataError(refuse_message(report, source))
    return frame


def fill_gaps(frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Insert flat zero-volume candles for missing bars of a sorted, duplicate-free frame."""
    ts = frame["ts_ms"].to_numpy(np.int64)
    step = timeframe_to_ms(timeframe)
    if ts.size < 2 or not (np.diff(ts) > step).any():
        return frame
    grid = np.arange(ts[0], ts[-1] + 1, step, dtype=np.int64)
    pos = np.searchsorted(grid, ts)
    present = np.zeros(grid.size, dtype=bool)
    present[pos] = True
    # index of the latest real bar at or before each grid slot
    last_real = np.maximum.accumulate(np.where(present, np.arange(grid.size), 0))
    src = np.cumsum(present)[last_real] - 1
    close = frame["close"].to_numpy(np.float64)
    cols = {}
    for name in ("open", "high", "low", "close", "volume"):
        values = frame[name].to_numpy(np.float64)
        filled = np.where(present, 0.0, 0.0 if name == "volume" else close[src])
        filled[pos] = values
        cols[name] = filled
    return candles_from_arrays(grid, **_positional(cols))


def _positional(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # candles_from_arrays names its open parameter open_ (open is a builtin)
    return {("open_" if k == "open" else k): v for k, v in cols.items()}


def _drop_bad_rows(frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    # stable sort: of duplicate timestamps the row that came first in the file survives
    order = np.argsort(frame["ts_ms"].to_numpy(np.int64), kind="stable")
    ordered = frame.iloc[order].reset_index(drop=True)
    kept = ordered.loc[~bad_row_mask(ordered, timeframe, duplicates=False)]
    # dedupe after removing bad rows, so a NaN first copy does not take a good second one along
    return kept.loc[~kept["ts_ms"].duplicated()].reset_index(drop=True)
