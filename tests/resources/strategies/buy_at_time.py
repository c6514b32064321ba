"""A strategy a config file can script by time: BUY at the close of the bar opened at
``buy_ts_ms``. By time, not by index, so a backtest (whole history) and paper trading (a
rolling window) place the same entry. Per-symbol overrides give each symbol its own time.
Not shipped."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, IndexArray, Strategy, StrategyConfig


class BuyAtTime(Strategy):
    """BUY at the bar opened at ``buy_ts_ms``; HOLD elsewhere."""

    name: ClassVar[str] = "buy_at_time"

    def __init__(self, buy_ts_ms: int = 0) -> None:
        self.buy_ts_ms = buy_ts_ms

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """No indicators."""
        return candles

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """BUY at the scripted bar."""
        if int(bars.ts_ms[i]) == self.buy_ts_ms:
            return Signal(SignalAction.BUY, 1.0, f"scripted buy at {self.buy_ts_ms}")
        return HOLD

    def signal_candidates(self, bars: Bars) -> IndexArray:
        """The scripted bar, if the bars hold it."""
        return np.flatnonzero(bars.ts_ms == self.buy_ts_ms).astype(np.int64)

    def get_config(self) -> StrategyConfig:
        """The time."""
        return {"buy_ts_ms": self.buy_ts_ms}
