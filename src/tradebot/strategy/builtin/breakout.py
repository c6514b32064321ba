"""Donchian channel breakout (the turtle rule): buy new highs, leave on a shorter low."""

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
from tradebot.strategy.builtin.params import MAX_PERIOD, int_param
from tradebot.strategy.indicators import donchian
from tradebot.strategy.space import IntRange


class Breakout(ColumnStrategy):
    """BUY when the close breaks above the previous bar's ``period``-bar high; SELL when it
    breaks below the previous bar's ``exit_period``-bar low.

    The channels include their own bar, so the rule compares ``close[i]`` with the channel
    at ``i - 1``: the highest high of bars ``i-period..i-1``.
    """

    name: ClassVar[str] = "breakout"

    def __init__(
        self,
        period: Annotated[int, IntRange(5, 200, log=True)] = 20,
        exit_period: Annotated[int, IntRange(3, 100, log=True)] = 10,
    ) -> None:
        """Check and keep the parameters.

        Raises:
            ValueError: a period is outside its range.
        """
        self.period = int_param("period", period, 1, MAX_PERIOD)
        self.exit_period = int_param("exit_period", exit_period, 1, MAX_PERIOD)

    @property
    def warmup_bars(self) -> int:
        """The first bar whose previous bar has both channels."""
        return max(self.period, self.exit_period)

    @property
    def live_window_bars(self) -> int:
        """Channels are finite windows: one bar more than the longest is exact."""
        return self.warmup_bars + 1

    def indicator_columns(self, bars: Bars) -> dict[str, FloatArray]:
        """``dc_upper``/``dc_lower`` (entry channel) and ``exit_lower`` (exit channel)."""
        high, low = bars["high"], bars["low"]
        upper, lower = donchian(high, low, self.period)
        return {
            "dc_upper": upper,
            "dc_lower": lower,
            "exit_lower": donchian(high, low, self.exit_period)[1],
        }

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """Signal at the close of bar ``i`` from the close against the previous channels."""
        if i < self.warmup_bars:
            return HOLD
        close = bars.at("close", i)
        upper = bars.at("dc_upper", i - 1)
        if close > upper:
            reason = f"close {close:.2f} broke the {self.period}-bar high {upper:.2f}"
            return Signal(SignalAction.BUY, 0.7, reason, {"close": close, "dc_upper": upper})
        exit_low = bars.at("exit_lower", i - 1)
        if close < exit_low:
            reason = f"close {close:.2f} broke the {self.exit_period}-bar low {exit_low:.2f}"
            return Signal(SignalAction.SELL, 0.7, reason, {"close": close, "exit_lower": exit_low})
        return HOLD

    def signal_candidates(self, bars: Bars) -> IndexArray:
        """Bars whose close is outside the previous bar's entry or exit channel."""
        close = bars["close"][1:]
        outside = (close > bars["dc_upper"][:-1]) | (close < bars["exit_lower"][:-1])
        return (np.flatnonzero(outside) + 1).astype(np.int64)

    def get_config(self) -> StrategyConfig:
        """The parameters, for the decision log and reports."""
        return {"period": self.period, "exit_period": self.exit_period}
