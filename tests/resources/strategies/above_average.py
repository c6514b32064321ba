"""A member for ensemble tests whose signal is a state, not an event: BUY while the close is
above its simple average, SELL while below. Members with different periods agree or disagree
at the same bar, so a vote can be counted by hand from the candles. Not shipped."""

from __future__ import annotations

from typing import ClassVar

import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy, StrategyConfig

BUY_CONFIDENCE = 0.6
SELL_CONFIDENCE = 0.4


class AboveAverage(Strategy):
    """BUY (confidence 0.6) above the ``period``-bar SMA, SELL (0.4) below, HOLD before it."""

    name: ClassVar[str] = "above_average"

    def __init__(self, period: int = 10) -> None:
        self.period = period

    @property
    def warmup_bars(self) -> int:
        """The first bar with an average."""
        return self.period - 1

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Add ``sma``."""
        frame = candles.copy()
        frame["sma"] = frame["close"].rolling(self.period).mean()
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """BUY above the average, SELL below."""
        close, sma = float(bars["close"][i]), float(bars["sma"][i])
        if sma != sma:
            return HOLD
        if close > sma:
            return Signal(SignalAction.BUY, BUY_CONFIDENCE, f"close above SMA{self.period}")
        return Signal(SignalAction.SELL, SELL_CONFIDENCE, f"close below SMA{self.period}")

    def get_config(self) -> StrategyConfig:
        """The period."""
        return {"period": self.period}
