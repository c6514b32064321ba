"""EMA crossover with an RSI filter: the design's example strategy, done causally and fast."""

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
from tradebot.strategy.indicators import ema, ema_convergence_bars, rsi
from tradebot.strategy.space import FloatRange, IntRange


class EmaCrossover(ColumnStrategy):
    """BUY when the fast EMA crosses above the slow EMA while RSI is below a threshold;
    SELL when it crosses below.

    A cross at bar ``i`` means ``ema_fast[i-1] <= ema_slow[i-1]`` and
    ``ema_fast[i] > ema_slow[i]`` (mirrored for SELL). ``rsi_threshold=100`` turns the RSI
    filter off. Signals ignore the position: the engine skips a BUY when already long.
    """

    name: ClassVar[str] = "ema_crossover"

    def __init__(
        self,
        fast_period: Annotated[int, IntRange(3, 40)] = 12,
        slow_period: Annotated[int, IntRange(20, 200, log=True)] = 26,
        rsi_period: Annotated[int, IntRange(5, 30)] = 14,
        rsi_threshold: Annotated[float, FloatRange(50.0, 100.0)] = 70.0,
    ) -> None:
        """Check and keep the parameters.

        Raises:
            ValueError: a parameter is outside its range, or fast_period >= slow_period.
        """
        self.fast_period = int_param("fast_period", fast_period, 1, MAX_PERIOD)
        self.slow_period = int_param("slow_period", slow_period, 2, MAX_PERIOD)
        self.rsi_period = int_param("rsi_period", rsi_period, 1, MAX_PERIOD)
        self.rsi_threshold = float_param("rsi_threshold", rsi_threshold, 0.0, 100.0)
        self._warmup = max(self.slow_period, self.rsi_period)  # ``warmup_bars``, read per bar
        self._reasons = {  # a kind of cross -> its reason's template
            what: f"EMA{self.fast_period} {what} EMA{self.slow_period} (%.2f vs %.2f),"
            f" RSI{self.rsi_period}=%.1f"
            for what in ("golden cross", "death cross")
        }
        if self.fast_period >= self.slow_period:
            msg = (
                f"fast_period must be below slow_period, got fast_period={self.fast_period},"
                f" slow_period={self.slow_period}"
            )
            raise ValueError(msg)

    @property
    def warmup_bars(self) -> int:
        """The first bar with both EMAs at the previous bar and RSI at this one."""
        return self._warmup

    @property
    def live_window_bars(self) -> int:
        """Rolling-window length whose signals equal the full history's (seed decayed < 1e-12)."""
        return self.warmup_bars + max(
            ema_convergence_bars(self.slow_period),
            ema_convergence_bars(self.rsi_period, wilder_smoothing=True),
        )

    def indicator_columns(self, bars: Bars) -> dict[str, FloatArray]:
        """``ema_fast``, ``ema_slow`` and ``rsi`` of the closes."""
        close = bars["close"]
        # the RSI first: its temporaries then sit beside no finished column (an optimisation
        # worker's peak on two million bars)
        rsi_values = rsi(close, self.rsi_period)
        return {
            "ema_fast": ema(close, self.fast_period),
            "ema_slow": ema(close, self.slow_period),
            "rsi": rsi_values,
        }

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """Signal at the close of bar ``i`` from the EMA cross and the RSI filter."""
        if i < self._warmup:
            return HOLD
        at = bars.at
        prev_fast, prev_slow = at("ema_fast", i - 1), at("ema_slow", i - 1)
        now_fast, now_slow = at("ema_fast", i), at("ema_slow", i)
        if prev_fast <= prev_slow and now_fast > now_slow:
            now_rsi = at("rsi", i)
            if self.rsi_threshold >= 100.0 or now_rsi < self.rsi_threshold:
                return self._signal(SignalAction.BUY, "golden cross", now_fast, now_slow, now_rsi)
        elif prev_fast >= prev_slow and now_fast < now_slow:
            now_rsi = at("rsi", i)
            return self._signal(SignalAction.SELL, "death cross", now_fast, now_slow, now_rsi)
        return HOLD

    def _signal(
        self, action: SignalAction, what: str, fast: float, slow: float, now_rsi: float
    ) -> Signal:
        # "EMA12 golden cross EMA26 (42421.06 vs 42419.42), RSI14=57.4" from words made once
        # (formatting the whole text each time was half the cost of a signal)
        metadata = {"ema_fast": fast, "ema_slow": slow, "rsi": now_rsi}
        return Signal(action, 0.8, self._reasons[what] % (fast, slow, now_rsi), metadata)

    def signal_candidates(self, bars: Bars) -> IndexArray:
        """Bars where the EMAs cross (the RSI filter only removes some of them)."""
        fast, slow = bars["ema_fast"], bars["ema_slow"]
        up = (fast[:-1] <= slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] >= slow[:-1]) & (fast[1:] < slow[1:])
        return (np.flatnonzero(up | down) + 1).astype(np.int64)

    def get_config(self) -> StrategyConfig:
        """The parameters, for the decision log and reports."""
        return {
            "fast_period": self.fast_period,
            "slow_period": self.slow_period,
            "rsi_period": self.rsi_period,
            "rsi_threshold": self.rsi_threshold,
        }
