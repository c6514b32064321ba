"""Momentum indicators: RSI (Wilder) and MACD, both matching TA-Lib after warm-up."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tradebot.strategy.indicators.averages import (
    FloatArray,
    as_float_array,
    check_period,
    ema,
    wilder,
)

# TA-Lib treats |x| < 1e-8 as zero when dividing (TA_IS_ZERO); we follow it to match it.
_TA_ZERO = 1e-8


def rsi(values: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's Relative Strength Index in [0, 100], as TA-Lib's RSI.

    The first value is at bar ``period`` (it needs ``period`` price changes): average gain
    and loss are the plain means of the first ``period`` changes, then Wilder-smoothed.
    A flat market (no gains and no losses) gives 0, as in TA-Lib.
    """
    check_period("period", period)
    x = as_float_array(values)
    # One array at a time where it can be (each is 16 MB on two million bars); NaN stays
    # NaN through ``np.maximum``, so the changes need no NaN mask.
    change = np.empty(len(x))
    change[:1] = np.nan
    np.subtract(x[1:], x[:-1], out=change[1:])
    avg_gain = wilder(np.maximum(change, 0.0), period, scratch=True)
    np.negative(change, out=change)
    avg_loss = wilder(np.maximum(change, 0.0, out=change), period, scratch=True)
    del change
    total = avg_gain + avg_loss
    del avg_loss
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.divide(avg_gain, total)
    del avg_gain
    ratio *= 100.0
    ratio[np.abs(total, out=total) < _TA_ZERO] = 0.0
    return ratio


def macd(
    values: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MACD line, signal line and histogram, matching TA-Lib's MACD.

    TA-Lib seeds the fast EMA late, at the slow EMA's first bar (``slow - 1``), with the SMA
    of the ``fast`` closes ending there, not at bar ``fast - 1``; we do the same so the
    values agree exactly. The MACD line is defined from bar ``slow - 1``; the signal line
    (EMA of the MACD line) and the histogram from bar ``slow + signal - 2``.

    Raises:
        ValueError: ``fast`` is not below ``slow``, or a period is below 1.
    """
    check_period("fast", fast)
    check_period("slow", slow)
    check_period("signal", signal)
    if fast >= slow:
        msg = f"fast ({fast}) must be below slow ({slow})"
        raise ValueError(msg)
    x = as_float_array(values)
    slow_ema = ema(x, slow)
    late = x.copy()
    late[: max(slow - fast, 0)] = np.nan
    fast_ema = ema(late, fast)
    line = fast_ema - slow_ema
    signal_line = ema(line, signal)
    return line, signal_line, line - signal_line
