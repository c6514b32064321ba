"""RSI mean reversion: buy the recovery from oversold, sell the fall from overbought."""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import (
    Bars,
    ColumnStrategy,
    FloatArray,
    IndexArray,
    StrategyConfig,
)
from tradebot.strategy.builtin.params import MAX_PERIOD, float_param, int_param
from tradebot.strategy.indicators import ema_convergence_bars, rsi, sma
from tradebot.strategy.space import Choice, FloatRange, IntRange


class RsiMeanReversion(ColumnStrategy):
    """BUY when RSI crosses up through ``oversold``; SELL when it crosses down through
    ``overbought``.

    Crossing up at bar ``i`` means ``rsi[i-1] <= oversold < rsi[i]``; crossing down means
    ``rsi[i-1] >= overbought > rsi[i]``. With ``trend_period > 0`` a BUY also needs the
    close above its ``trend_period`` SMA (only buy dips in an up-trend); 0 turns it off.
    """

    name: ClassVar[str] = "rsi_mean_reversion"

    def __init__(
        self,
        rsi_period: Annotated[int, IntRange(5, 30)] = 14,
        oversold: Annotated[float, FloatRange(10.0, 40.0)] = 30.0,
        overbought: Annotated[float, FloatRange(60.0, 90.0)] = 70.0,
        trend_period: Annotated[int, Choice((0, 50, 100, 200))] = 0,
    ) -> None:
        """Check and keep the parameters.

        Raises:
            ValueError: a parameter is outside its range, or oversold >= overbought.
        """
        self.rsi_period = int_param("rsi_period", rsi_period, 1, MAX_PERIOD)
        self.oversold = float_param("oversold", oversold, 0.0, 100.0)
        self.overbought = float_param("overbought", overbought, 0.0, 100.0)
        self.trend_period = int_param("trend_period", trend_period, 0, MAX_PERIOD)
        if self.oversold >= self.overbought:
            msg = (
                f"oversold must be below overbought, got oversold={self.oversold:g},"
                f" overbought={self.overbought:g}"
            )
            raise ValueError(msg)

    @property
    def warmup_bars(self) -> int:
        """The first bar with RSI at the previous bar (and the trend SMA, if used)."""
        return max(self.rsi_period + 1, self.trend_period)

    @property
    def live_window_bars(self) -> int:
        """Rolling-window length whose signals equal the full history's (seed decayed < 1e-12)."""
        return self.warmup_bars + ema_convergence_bars(self.rsi_period, wilder_smoothing=True)

    def indicator_columns(self, bars: Bars) -> dict[str, FloatArray]:
        """``rsi`` and, with a trend filter, ``trend_sma`` of the closes."""
        close = bars["close"]
        columns = {"rsi": rsi(close, self.rsi_period)}
        if self.trend_period > 0:
            columns["trend_sma"] = sma(close, self.trend_period)
        return columns

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """Signal at the close of bar ``i`` from the RSI crossing its bands."""
        if i < self.warmup_bars:
            return HOLD
        prev, now = bars.at("rsi", i - 1), bars.at("rsi", i)
        if prev <= self.oversold < now:
            return self._buy(bars, i, now)
        if prev >= self.overbought > now:
            reason = f"RSI{self.rsi_period} down through {self.overbought:g} ({now:.1f})"
            return Signal(SignalAction.SELL, 0.7, reason, {"rsi": now})
        return HOLD

    def _buy(self, bars: Bars, i: int, now: float) -> Signal:
        reason = f"RSI{self.rsi_period} up through {self.oversold:g} ({now:.1f})"
        close = bars.at("close", i)
        if self.trend_period == 0:
            return Signal(SignalAction.BUY, 0.7, reason, {"rsi": now, "close": close})
        trend = bars.at("trend_sma", i)
        if not close > trend:
            return HOLD
        reason += f", close {close:.2f} above SMA{self.trend_period} {trend:.2f}"
        return Signal(SignalAction.BUY, 0.7, reason, {"rsi": now, "trend_sma": trend})

    def signal_candidates(self, bars: Bars) -> IndexArray:
        """Bars where RSI crosses either band (the trend filter only removes some)."""
        values = bars["rsi"]
        prev, now = values[:-1], values[1:]
        up = (prev <= self.oversold) & (now > self.oversold)
        down = (prev >= self.overbought) & (now < self.overbought)
        return (np.flatnonzero(up | down) + 1).astype(np.int64)

    def get_config(self) -> StrategyConfig:
        """The parameters, for the decision log and reports."""
        return {
            "rsi_period": self.rsi_period,
            "oversold": self.oversold,
            "overbought": self.overbought,
            "trend_period": self.trend_period,
        }
