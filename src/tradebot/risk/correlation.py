"""Correlation of two markets' returns, causal: only bars that have closed by the decision.

The correlation-aware limit (``RiskLimits.max_correlated_exposure``) treats held positions
whose returns move with a new entry's as one cluster: three 0.9-correlated longs are one bet
three times, not three bets. The engine asks here at each entry (rare next to bars), so a
plain rolling Pearson correlation over the last ``window`` common bars is cheap and exact.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
MIN_RETURNS: Final = 20
"""Fewer common returns than this say nothing: no correlation is reported."""


def rolling_correlation(
    a: tuple[IntArray, FloatArray],
    b: tuple[IntArray, FloatArray],
    end_ts_ms: int,
    window: int,
) -> float | None:
    """Pearson correlation of the log returns of two ``(ts_ms, close)`` series over their last
    ``window`` common bars opened at or before ``end_ts_ms``; None when too few.

    Returns are taken between consecutive common timestamps, so a bar one market lacks (a
    gap, a later start) is skipped in both.
    """
    ts_a, close_a = _upto(a, end_ts_ms, window)
    ts_b, close_b = _upto(b, end_ts_ms, window)
    common, ia, ib = np.intersect1d(ts_a, ts_b, assume_unique=True, return_indices=True)
    if len(common) < MIN_RETURNS + 1:
        return None
    ra = np.diff(np.log(close_a[ia]))[-window:]
    rb = np.diff(np.log(close_b[ib]))[-window:]
    sa, sb = ra.std(), rb.std()
    if sa == 0 or sb == 0:
        return None
    return float(((ra - ra.mean()) * (rb - rb.mean())).mean() / (sa * sb))


def _upto(
    series: tuple[IntArray, FloatArray], end_ts_ms: int, window: int
) -> tuple[IntArray, FloatArray]:
    ts, close = series
    end = int(np.searchsorted(ts, end_ts_ms, side="right"))
    start = max(end - 2 * window - 1, 0)  # room for bars the other market lacks
    return ts[start:end], close[start:end]
