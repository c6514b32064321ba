"""A strategy without indicators, for hand-written bars: BUY after an up bar, SELL after a down
bar. A backtest and a paper bot see the same signal at the same close whatever their window,
so a parity test can script trades by drawing candles. Not shipped."""

from __future__ import annotations

from typing import ClassVar

import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy, StrategyConfig


class BarDirection(Strategy):
    """BUY at the close of a bar that rose, SELL at the close of one that fell."""

    name: ClassVar[str] = "bar_direction"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """No indicators: the bar is the signal."""
        return candles

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """BUY on an up bar, SELL on a down bar, HOLD on a flat one."""
        open_, close = float(bars["open"][i]), float(bars["close"][i])
        if close > open_:
            return Signal(SignalAction.BUY, 1.0, "up bar")
        if close < open_:
            return Signal(SignalAction.SELL, 1.0, "down bar")
        return HOLD

    def get_config(self) -> StrategyConfig:
        """Nothing to configure."""
        return {}
