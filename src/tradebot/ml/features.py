"""Features as declarations: pure, causal functions of past bars.

Every column at bar ``i`` reads bars ``0..i`` only, and each is computed on an explicit
window of the bars it reads (numpy sliding windows, no running sums): the same bars give
bit-identical values whether the history starts years earlier or at the live window's first
bar, so a model fitted on them predicts the same in a backtest and live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tradebot.strategy.base import FloatArray
from tradebot.strategy.indicators import ema_convergence_bars, rsi


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which features a model sees, by family and lookback in bars.

    * ``ret_<h>``: the log return over the last ``h`` bars;
    * ``vol_<w>``: the standard deviation of the last ``w`` one-bar log returns;
    * ``volume_<w>``: the bar's volume over the mean volume of the last ``w`` bars, minus 1;
    * ``rsi_<p>``: the strategy library's RSI (recursive: see ``warmup_bars``).
    """

    return_horizons: tuple[int, ...] = (1, 4, 12, 24)
    volatility_windows: tuple[int, ...] = (12, 48)
    volume_windows: tuple[int, ...] = (24,)
    rsi_periods: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        """Reject lookbacks below 1 (below 2 for a standard deviation) and an empty spec.

        Raises:
            ValueError: a lookback is too short, or no feature is declared.
        """
        families = (
            ("return_horizons", self.return_horizons, 1),
            ("volatility_windows", self.volatility_windows, 2),
            ("volume_windows", self.volume_windows, 1),
            ("rsi_periods", self.rsi_periods, 1),
        )
        for name, values, least in families:
            if any(v < least for v in values):
                msg = f"{name} must all be at least {least}, got {values}"
                raise ValueError(msg)
        if not self.names:
            msg = "a FeatureSpec needs at least one feature"
            raise ValueError(msg)

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in the order of ``matrix``."""
        return (
            *(f"ret_{h}" for h in self.return_horizons),
            *(f"vol_{w}" for w in self.volatility_windows),
            *(f"volume_{w}" for w in self.volume_windows),
            *(f"rsi_{p}" for p in self.rsi_periods),
        )

    @property
    def warmup_bars(self) -> int:
        """The first bar where every feature has a value.

        RSI is recursive: it counts until its seed has decayed below 1e-12, as the strategy
        library's ``live_window_bars`` do.
        """
        lookbacks = [
            *self.return_horizons,
            *self.volatility_windows,
            *(w - 1 for w in self.volume_windows),
            *(p + ema_convergence_bars(p, wilder_smoothing=True) for p in self.rsi_periods),
        ]
        return max(lookbacks, default=0)

    def columns(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """Every feature column, NaN until it has its lookback."""
        close = candles["close"].to_numpy(dtype=np.float64)
        volume = candles["volume"].to_numpy(dtype=np.float64)
        log_close = np.log(close)
        one_bar = _lagged_difference(log_close, 1)
        out: dict[str, FloatArray] = {}
        for h in self.return_horizons:
            out[f"ret_{h}"] = _lagged_difference(log_close, h)
        for w in self.volatility_windows:
            out[f"vol_{w}"] = _windowed(one_bar, w, lambda win: win.std(axis=1, ddof=1))
        for w in self.volume_windows:
            mean = _windowed(volume, w, lambda win: win.mean(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"volume_{w}"] = np.where(mean > 0, volume / mean - 1.0, np.nan)
        for p in self.rsi_periods:
            out[f"rsi_{p}"] = rsi(close, p)
        return out

    def matrix(self, candles: pd.DataFrame) -> FloatArray:
        """The features as an ``(n_bars, n_features)`` array in ``names`` order."""
        cols = self.columns(candles)
        return np.column_stack([cols[name] for name in self.names])


def _lagged_difference(values: FloatArray, lag: int) -> FloatArray:
    out = np.full(len(values), np.nan)
    if len(values) > lag:
        out[lag:] = values[lag:] - values[:-lag]
    return out


def _windowed(
    values: FloatArray, window: int, reduce: Callable[[FloatArray], FloatArray]
) -> FloatArray:
    # reduce each trailing window of ``window`` values on its own (NaN in a window → NaN)
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        out[window - 1 :] = reduce(sliding_window_view(values, window))
    return out
