"""The numbers a rule-based regime detector reads, and the hysteresis it applies to them.

Each measure at bar ``i`` reads bars ``0..i`` only and is computed on an explicit window of
the bars it reads (numpy sliding windows, no running sums, no recursion): the same bars give
bit-identical values whether the history starts years earlier or at a live window's first
bar, so a detector run live labels a bar exactly as the backtest did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from tradebot.strategy.base import FloatArray


def rolling_volatility(close: FloatArray, bars: int) -> FloatArray:
    """Standard deviation of the last ``bars`` one-bar log returns (NaN before ``bars``)."""
    out = np.full(len(close), np.nan)
    if len(close) > bars:
        returns = np.diff(np.log(close))
        out[bars:] = sliding_window_view(returns, bars).std(axis=1, ddof=1)
    return out


def trailing_rank(values: FloatArray, bars: int) -> FloatArray:
    """Share of the last ``bars`` values (the current one included) strictly below the
    current one: 0 at a new low of the window, near 1 at a new high; NaN where the window
    holds a NaN."""
    out = np.full(len(values), np.nan)
    if len(values) >= bars:
        windows = sliding_window_view(values, bars)
        below = (windows < windows[:, -1:]).sum(axis=1) / bars
        known = ~np.isnan(windows).any(axis=1)
        out[bars - 1 :] = np.where(known, below, np.nan)
    return out


def slope_strength(close: FloatArray, bars: int) -> FloatArray:
    """|least-squares slope of log close over the last ``bars`` bars| times ``√(bars − 1)``,
    over the standard deviation of the window's one-bar log returns.

    A drift ``μ`` per bar under noise ``σ`` reads about ``μ √(bars − 1) / σ``; a driftless
    walk reads about 1 (a t-statistic of the drift, roughly). NaN before ``bars`` closes.
    """
    out = np.full(len(close), np.nan)
    if len(close) >= bars:
        windows = sliding_window_view(np.log(close), bars)
        t = np.arange(bars, dtype=np.float64) - (bars - 1) / 2
        slope = (windows * t).sum(axis=1) / (t * t).sum()
        noise = np.diff(windows, axis=1).std(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            strength = np.where(noise > 0, np.abs(slope) * np.sqrt(bars - 1) / noise, 0.0)
        out[bars - 1 :] = strength
    return out


def banded_level(value: float, current: int, up: Sequence[float], down: Sequence[float]) -> int:
    """The level ``value`` asks for, starting from ``current``, with hysteresis.

    Level ``k`` is reached going up when ``value >= up[k - 1]`` and left going down when
    ``value < down[k - 1]`` (``down[k] <= up[k]``): between the two the level stays. With no
    level yet (``current < 0``) the midpoint of each band decides.
    """
    if current < 0:
        return sum(value >= (u + d) / 2 for u, d in zip(up, down, strict=True))
    raised = sum(value >= u for u in up)
    if raised > current:
        return raised
    lowered = sum(value >= d for d in down)
    return min(lowered, current)


def run_ages(codes: FloatArray) -> FloatArray:
    """Bars the current code has held before each bar (0 at the first bar of a run; NaN
    where the code is NaN). Counted within the history given: a run that began before it
    reads from its first bar."""
    n = len(codes)
    known = ~np.isnan(codes)
    starts = np.ones(n, dtype=bool)
    if n > 1:
        same = (codes[1:] == codes[:-1]) & known[1:] & known[:-1]
        starts[1:] = ~same
    index = np.arange(n)
    first = np.maximum.accumulate(np.where(starts, index, 0))
    return np.where(known, (index - first).astype(np.float64), np.nan)


def anchored_chains(ts_ms: npt.NDArray[np.int64], block_bars: int) -> list[tuple[int, int, int]]:
    """Where a forward state machine starts and which bars it labels, so that every label
    is a function of a bounded, clock-anchored stretch of bars.

    Time is cut into blocks of ``block_bars`` bars counted from the Unix epoch (not from the
    first candle). The bars of block ``k`` are labelled by a machine started afresh at the
    first bar of block ``k - 1`` (or of the history, when it starts later): between
    ``block_bars`` and ``2 * block_bars`` bars old. Returns ``(start, first, stop)`` index
    triples: run from ``start``, keep the labels of ``first..stop - 1``.
    """
    n = len(ts_ms)
    if n == 0:
        return []
    bar_ms = int(np.diff(ts_ms).min()) if n > 1 else 1
    block = ts_ms // (max(bar_ms, 1) * block_bars)
    firsts = np.flatnonzero(np.diff(block, prepend=block[0] - 1) != 0).tolist()
    stops = [*firsts[1:], n]
    starts = [firsts[0], *firsts[:-1]]
    previous = [block[firsts[0]] - 1, *block[firsts[:-1]].tolist()]
    return [
        (start if prev == block[first] - 1 else first, first, stop)
        for start, first, stop, prev in zip(starts, firsts, stops, previous, strict=True)
    ]
