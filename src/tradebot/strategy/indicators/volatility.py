"""Volatility and range indicators: true range, ATR (Wilder), Bollinger bands, Donchian."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradebot.strategy.indicators.averages import (
    FloatArray,
    as_float_array,
    check_period,
    sma,
    wilder,
)


def true_range(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
    """Wilder's true range; NaN at bar 0, which has no previous close (as TA-Lib's TRANGE)."""
    h, lo, c = as_float_array(high), as_float_array(low), as_float_array(close)
    prev_close = np.empty_like(c)
    prev_close[0] = np.nan
    prev_close[1:] = c[:-1]
    # two arrays at a time, not four (each 16 MB on two million bars)
    tr = np.maximum(h, prev_close)
    tr -= np.minimum(lo, prev_close, out=prev_close)
    return tr


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Average true range, Wilder-smoothed, as TA-Lib's ATR.

    The first value is at bar ``period``: the mean of the true ranges of bars 1..period.
    """
    check_period("period", period)
    return wilder(true_range(high, low, close), period, scratch=True)


def bollinger(
    values: npt.ArrayLike, period: int = 20, n_std: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands ``(upper, middle, lower)``: SMA ± ``n_std`` population std devs.

    The population standard deviation (ddof=0) is what TA-Lib's BBANDS uses.
    """
    check_period("period", period)
    x = as_float_array(values)
    middle = sma(x, period)
    std = pd.Series(x).rolling(period, min_periods=period).std(ddof=0).to_numpy(np.float64)
    return middle + n_std * std, middle, middle - n_std * std


def donchian(
    high: npt.ArrayLike, low: npt.ArrayLike, period: int = 20
) -> tuple[FloatArray, FloatArray]:
    """Donchian channel ``(upper, lower)``: highest high and lowest low of the last ``period`` bars.

    The window *includes the current bar* (as TA-Lib's MAX/MIN), so ``close[i]`` can never be
    above ``upper[i]``. A breakout rule therefore compares ``close[i]`` with the previous
    bar's channel, ``upper[i - 1]``.
    """
    check_period("period", period)
    h = pd.Series(as_float_array(high))
    lo = pd.Series(as_float_array(low))
    upper = h.rolling(period, min_periods=period).max().to_numpy(np.float64)
    lower = lo.rolling(period, min_periods=period).min().to_numpy(np.float64)
    return upper, lower
