"""Strategies that peek at the future, for testing ``check_lookahead``. Not shipped.

Each computes one column ``x`` in a way that reads later bars and signals BUY when the close
is above it, SELL when below. ``NextBarSignal`` instead peeks inside ``generate_signals``.
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy, StrategyConfig


class _PeekBase(Strategy):
    """Shared signal rule and config; subclasses define the peeking column ``x``."""

    name: ClassVar[str] = "peek"

    def __init__(self, window: int = 12) -> None:
        self.window = window

    @property
    def warmup_bars(self) -> int:
        return self.window

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        close, x = float(bars["close"][i]), float(bars["x"][i])
        if close > x:
            return Signal(SignalAction.BUY, 0.5, "close above x")
        if close < x:
            return Signal(SignalAction.SELL, 0.5, "close below x")
        return HOLD

    def get_config(self) -> StrategyConfig:
        return {"window": self.window}


class ShiftMinusOne(_PeekBase):
    """Uses the next bar's close: ``shift(-1)``."""

    name: ClassVar[str] = "shift_minus_one"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"].shift(-1)
        return frame


class CentredRolling(_PeekBase):
    """A centred moving average reads ``window // 2`` bars ahead."""

    name: ClassVar[str] = "centred_rolling"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"].rolling(self.window, center=True).mean()
        return frame


class WholeSeriesZScore(_PeekBase):
    """Normalises with the mean and std of the whole series, future included."""

    name: ClassVar[str] = "whole_series_zscore"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        close = frame["close"]
        frame["zscore"] = (close - close.mean()) / close.std()
        frame["x"] = close.mean() + frame["zscore"]
        return frame


class FutureFilled4h(_PeekBase):
    """Puts each 4h candle's final close on all four of its 1h bars (labelled by bin start).

    The 1h bar at 00:00 thus sees the close of 03:00, three hours early. The honest way is
    to use a 4h close only from the first 1h bar after the 4h candle has closed.
    """

    name: ClassVar[str] = "future_filled_4h"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        when = pd.to_datetime(frame["ts_ms"], unit="ms", utc=True)
        close_4h = frame["close"].set_axis(when).resample("4h").last()
        frame["x"] = close_4h.reindex(when, method="ffill").to_numpy()
        return frame


class NextBarSignal(_PeekBase):
    """Indicators are honest, but ``generate_signals`` reads ``close[i + 1]``."""

    name: ClassVar[str] = "next_bar_signal"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"]
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        close = bars["close"]
        if i + 1 < len(close) and close[i + 1] > close[i]:
            return Signal(SignalAction.BUY, 0.5, "next bar is higher")
        return HOLD


class TrailingMean(_PeekBase):
    """A causal control: the trailing mean, which the checker must pass."""

    name: ClassVar[str] = "trailing_mean"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"].rolling(self.window).mean()
        return frame


class NotAStrategy:
    """A class that is not a Strategy, for the registry's error message."""

    def __init__(self) -> None:
        self.name = "not_a_strategy"
