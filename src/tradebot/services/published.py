"""The strategy the execution service's engine asks: it answers what the strategy service said.

The execution service runs the one ``TradingEngine`` (sizing, risk, stops, the order
lifecycle) through the one door, ``handle(BarClosed)``; only the signal comes from the bus.
Each symbol's strategy in that engine is a ``PublishedSignals``: its indicators are the
ones the strategy service decided on (so the decision record is the single process's) and
its signal at a bar is the one published for that bar. Asked about a bar nobody published
a signal for, it refuses, as a strategy that fails does (the engine's barrier).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradebot.domain.decisions import Signal
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy, StrategyConfig


class PublishedSignals(Strategy):
    """Stands in for ``inner`` in the execution service: signals arrive, none are computed."""

    name = "published"

    def __init__(self, inner: Strategy) -> None:
        self.inner = inner
        self._signals: dict[int, Signal] = {}
        self._indicators: dict[int, Mapping[str, float]] = {}

    def publish(self, bar_ts_ms: int, signal: Signal, indicators: Mapping[str, float]) -> None:
        """What the strategy service said at the close of the bar opening at ``bar_ts_ms``.

        Only the newest bar is kept: the engine asks about the bar just closed.
        """
        self._signals = {bar_ts_ms: signal}
        self._indicators = {bar_ts_ms: indicators}

    @property
    def warmup_bars(self) -> int:
        """The inner strategy's warm-up."""
        return self.inner.warmup_bars

    @property
    def live_window_bars(self) -> int:
        """The inner strategy's window."""
        return self.inner.live_window_bars

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """The candles, with the published indicator values on the bars they were sent for."""
        frame = candles.copy()
        ts = frame["ts_ms"].to_numpy()
        for bar_ts, values in self._indicators.items():
            rows = ts == bar_ts
            for name, value in values.items():
                if name not in frame.columns:
                    frame[name] = np.nan
                frame.loc[rows, name] = value
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """The published signal of bar ``i``.

        Raises:
            LookupError: no signal was published for that bar (the engine's barrier turns
                it into a StrategyError naming the bar).
        """
        ts = int(bars.ts_ms[i])
        signal = self._signals.get(ts)
        if signal is None:
            raise LookupError(f"no signal was published for bar {ts} of {self.inner.name}")
        return signal

    def get_config(self) -> StrategyConfig:
        """The inner strategy's parameters (the decision log names them)."""
        return self.inner.get_config()
