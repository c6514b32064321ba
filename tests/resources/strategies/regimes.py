"""A user's own regime detector, loaded by a config as ``regimes.py:AboveAverage``: ``up``
while the close is above its simple average, ``down`` below. Not shipped."""

from __future__ import annotations

from typing import ClassVar

import pandas as pd

from tradebot.strategy.base import Bars, FloatArray, StrategyConfig
from tradebot.strategy.regime import RegimeDetector


class AboveAverage(RegimeDetector):
    """``up`` above the ``period``-bar SMA, ``down`` below (None before it)."""

    name: ClassVar[str] = "above_average"
    labels: ClassVar[tuple[str, ...]] = ("up", "down")

    def __init__(self, period: int = 10) -> None:
        self.period = period

    @property
    def warmup_bars(self) -> int:
        """The first bar with an average."""
        return self.period - 1

    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """``sma``."""
        return {"sma": candles["close"].rolling(self.period).mean().to_numpy()}

    def label(self, bars: Bars, i: int) -> str | None:
        """``up`` or ``down``."""
        sma = float(bars["sma"][i])
        if sma != sma:
            return None
        return "up" if float(bars["close"][i]) > sma else "down"

    def get_config(self) -> StrategyConfig:
        """The period."""
        return {"period": self.period}


class NotADetector:
    """Not a RegimeDetector."""
