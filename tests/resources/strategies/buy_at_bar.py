"""A strategy a config file can script: BUY at the close of bar ``buy_bar``, SELL at the
close of ``sell_bar`` (-1: never). Per-symbol overrides give each symbol its own bars, so a
basket test places entries where it wants them from YAML alone. Not shipped."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, IndexArray, Strategy, StrategyConfig


class BuyAtBar(Strategy):
    """BUY at ``buy_bar``, SELL at ``sell_bar``; HOLD elsewhere."""

    name: ClassVar[str] = "buy_at_bar"

    def __init__(self, buy_bar: int = 0, sell_bar: int = -1) -> None:
        self.buy_bar, self.sell_bar = buy_bar, sell_bar

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """No indicators."""
        return candles

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """The scripted signal at bar ``i``."""
        if i == self.buy_bar:
            return Signal(SignalAction.BUY, 1.0, f"scripted buy at bar {i}")
        if i == self.sell_bar:
            return Signal(SignalAction.SELL, 1.0, f"scripted sell at bar {i}")
        return HOLD

    def signal_candidates(self, bars: Bars) -> IndexArray:
        """The two scripted bars."""
        return np.asarray([b for b in (self.buy_bar, self.sell_bar) if b >= 0], dtype=np.int64)

    def get_config(self) -> StrategyConfig:
        """The bars."""
        return {"buy_bar": self.buy_bar, "sell_bar": self.sell_bar}
