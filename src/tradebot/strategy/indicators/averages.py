"""Moving averages: SMA, EMA and Wilder's smoothing, seeded exactly as TA-Lib seeds them.

Every function takes a float64 array and returns one of the same length, NaN during the
warm-up. They are causal: the value at bar ``i`` reads bars ``0..i`` only, so computing them
once over a whole history (backtest) or over a rolling window (live) agrees once the window
is long enough for the seed to be forgotten (see ``ema_convergence_bars``).

Inputs may start with NaNs (e.g. the MACD line feeding its signal EMA); after the first
value they must be NaN-free, as candle data is once it has passed the data-quality checks.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray: TypeAlias = npt.NDArray[np.float64]


def _pandas_ewm_kernel() -> Callable[..., Any] | None:
    try:
        kernel: Callable[..., Any] = importlib.import_module("pandas._libs.window.aggregations").ewm
    except (ImportError, AttributeError):  # another pandas than the one pinned
        return None
    return kernel


_EWM_KERNEL = _pandas_ewm_kernel()
_WHOLE = np.array([0], dtype=np.int64)


def as_float_array(values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a 1-D float64 array (no copy when it already is one)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        msg = f"indicator input must be 1-D, got shape {array.shape}"
        raise ValueError(msg)
    return array


def check_period(name: str, period: int, minimum: int = 1) -> None:
    """Refuse a period outside ``[minimum, ∞)`` with a message naming the parameter."""
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {period!r}"
        raise ValueError(msg)


def sma(values: npt.ArrayLike, period: int) -> FloatArray:
    """Simple moving average over the last ``period`` bars, current bar included.

    NaN for the first ``period - 1`` bars, like TA-Lib's SMA.
    """
    check_period("period", period)
    series = pd.Series(as_float_array(values))
    return series.rolling(period, min_periods=period).mean().to_numpy(dtype=np.float64)


def ewm_mean(values: FloatArray, alpha: float) -> FloatArray:
    """``pd.Series(values).ewm(alpha=alpha, adjust=False).mean()`` as an array.

    Computed by the kernel pandas runs for it (``pandas._libs.window.aggregations.ewm``),
    called with the arguments pandas gives it (infinities made NaN, one window over the
    whole array, ``min_periods`` 1, the centre of mass pandas derives from ``alpha``): the
    same values to the bit, without the Series and window objects around it (88 -> 7 us on
    a live window of 401 bars; the default strategy smooths five times between a bar's
    close and its order). Through pandas itself when the kernel is not there;
    ``tests/unit/strategy/test_indicators.py`` holds the two equal.
    """
    if _EWM_KERNEL is None or len(values) == 0:
        smoothed = pd.Series(values, dtype=np.float64).ewm(alpha=alpha, adjust=False).mean()
        return smoothed.to_numpy(dtype=np.float64)
    x = np.ascontiguousarray(values, dtype=np.float64)
    infinite = np.isinf(x)
    if infinite.any():
        x = np.where(infinite, np.nan, x)
    end = np.array([len(x)], dtype=np.int64)
    with np.errstate(all="ignore"):
        result: FloatArray = _EWM_KERNEL(
            x, _WHOLE, end, 1, com=float((1 - alpha) / alpha), adjust=False,
            ignore_na=False, deltas=None, normalize=True,
        )  # fmt: skip
    return result


def seeded_ewm(
    values: npt.ArrayLike, period: int, alpha: float, *, scratch: bool = False
) -> FloatArray:
    """Exponential smoothing with factor ``alpha``, seeded by the SMA of the first values.

    The first output sits at the ``period``-th non-NaN input and equals the mean of those
    ``period`` inputs; afterwards ``out[i] = out[i-1] + alpha * (x[i] - out[i-1])``. This is
    TA-Lib's seeding for EMA (``alpha = 2/(period+1)``) and for Wilder's RSI/ATR
    (``alpha = 1/period``), which is what makes the results match TA-Lib to rounding.
    """
    check_period("period", period)
    x = as_float_array(values)
    # A mask, not the indices of the valid values: on two million bars that was 16 MB more.
    missing = np.isnan(x)
    if len(x) - int(np.count_nonzero(missing)) < period:
        return np.full(len(x), np.nan)
    start = int(np.argmin(missing))  # the first value that is not NaN
    del missing
    seed_at = start + period - 1
    if seed_at >= len(x):
        return np.full(len(x), np.nan)
    # ``scratch``: ``values`` is the caller's own float64 temporary, seeded in place (a
    # copy is 16 MB more on two million bars, at an optimisation worker's peak)
    seeded = x if scratch else x.copy()
    seed = x[start : seed_at + 1].mean()  # before the NaNs: ``seeded`` may be ``x``
    seeded[:seed_at] = np.nan
    seeded[seed_at] = seed
    return ewm_mean(seeded, alpha)


def ema(values: npt.ArrayLike, period: int) -> FloatArray:
    """Exponential moving average, ``alpha = 2/(period+1)``, matching TA-Lib's EMA.

    NaN for the first ``period - 1`` (non-NaN) bars; the first value is their SMA.
    """
    check_period("period", period)
    return seeded_ewm(values, period, 2.0 / (period + 1.0))


def wilder(values: npt.ArrayLike, period: int, *, scratch: bool = False) -> FloatArray:
    """Wilder's smoothing (RMA, ``alpha = 1/period``) as used by RSI and ATR.

    ``scratch``: ``values`` is a float64 temporary of the caller's, which it may overwrite.
    """
    check_period("period", period)
    return seeded_ewm(values, period, 1.0 / period, scratch=scratch)


def ema_convergence_bars(period: int, *, wilder_smoothing: bool = False, tol: float = 1e-12) -> int:
    """Bars after which an EMA has forgotten its seed to within a factor ``tol``.

    Two EMAs of the same prices started at different bars differ by ``(1-alpha)**n`` times
    their initial gap after ``n`` bars. Live trading computes indicators on a rolling
    window, so the window must be at least this long (plus the warm-up) for its signals to
    equal those of the full-history computation.
    """
    check_period("period", period)
    alpha = 1.0 / period if wilder_smoothing else 2.0 / (period + 1.0)
    if alpha >= 1.0:
        return 1
    return math.ceil(math.log(tol) / math.log(1.0 - alpha))
