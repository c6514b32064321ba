"""Regime detectors: a causal label per bar (trending or ranging, calm or wild) that a
conditional ensemble uses to choose which member decides.

A detector works like a strategy's two steps: ``calculate`` adds causal columns once over
the history (vectorised; the value at bar ``i`` reads bars ``0..i`` only), ``label`` reads
them at bar ``i`` and names the regime, or None while its columns warm up. A new detector
(a hidden-Markov model, a volatility clustering) subclasses ``RegimeDetector`` and is
registered in ``REGIME_DETECTORS``; the ensemble needs nothing else from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.strategy.base import Bars, FloatArray, StrategyConfig
from tradebot.strategy.builtin.params import MAX_PERIOD, float_param, int_param


class RegimeDetector(ABC):
    """Names the market's regime at each bar, causally."""

    name: ClassVar[str] = "regime"
    labels: ClassVar[tuple[str, ...]] = ()
    """Every label ``label`` can return: a conditional ensemble's members choose among them."""

    @property
    def warmup_bars(self) -> int:
        """Bars before the first label (``label`` returns None before)."""
        return 0

    @property
    def live_window_bars(self) -> int:
        """Candles a rolling window needs for labels equal to the full history's."""
        return self.warmup_bars + 1

    @abstractmethod
    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """Causal columns, one value per candle, under short names."""

    @abstractmethod
    def label(self, bars: Bars, i: int) -> str | None:
        """The regime at the close of bar ``i`` from the columns of ``calculate`` (None:
        not known yet); ``bars`` ends at bar ``i``."""

    @abstractmethod
    def get_config(self) -> StrategyConfig:
        """The parameters, for the decision log and reports."""


class TrendRegime(RegimeDetector):
    """``trend`` when Kaufman's efficiency ratio over ``period`` bars is at least
    ``threshold``, else ``range``.

    The ratio is the net move over the period divided by the sum of the bar-to-bar moves:
    1 for a straight line, near 0 for a market going back and forth.
    """

    name: ClassVar[str] = "trend"
    labels: ClassVar[tuple[str, ...]] = ("trend", "range")

    def __init__(self, period: int = 20, threshold: float = 0.3) -> None:
        """Check and keep the parameters.

        Raises:
            ValueError: a parameter is outside its range.
        """
        self.period = int_param("period", period, 1, MAX_PERIOD)
        self.threshold = float_param("threshold", threshold, 0.0, 1.0)

    @property
    def warmup_bars(self) -> int:
        """The first bar with ``period`` moves behind it."""
        return self.period

    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """``efficiency``: |close[i] − close[i−period]| / Σ |close[j] − close[j−1]|."""
        close = candles["close"].to_numpy(dtype=np.float64)
        n, p = len(close), self.period
        efficiency = np.full(n, np.nan)
        if n > p:
            moves = np.abs(np.diff(close))
            path = np.convolve(moves, np.ones(p), mode="valid")  # sums of p moves
            net = np.abs(close[p:] - close[:-p])
            with np.errstate(divide="ignore", invalid="ignore"):
                efficiency[p:] = np.where(path > 0, net / path, 0.0)
        return {"efficiency": efficiency}

    def label(self, bars: Bars, i: int) -> str | None:
        """``trend`` or ``range`` at bar ``i``."""
        value = float(bars["efficiency"][i])
        if value != value:  # NaN: warming up
            return None
        return "trend" if value >= self.threshold else "range"

    def get_config(self) -> StrategyConfig:
        """The parameters."""
        return {"period": self.period, "threshold": self.threshold}


class VolatilityRegime(RegimeDetector):
    """``high`` when the standard deviation of log returns over ``period`` bars exceeds
    ``threshold`` times the one over ``long_period`` bars, else ``low``."""

    name: ClassVar[str] = "volatility"
    labels: ClassVar[tuple[str, ...]] = ("high", "low")

    def __init__(self, period: int = 20, long_period: int = 100, threshold: float = 1.0) -> None:
        """Check and keep the parameters.

        Raises:
            ValueError: a parameter is outside its range, or period >= long_period.
        """
        self.period = int_param("period", period, 2, MAX_PERIOD)
        self.long_period = int_param("long_period", long_period, 3, MAX_PERIOD)
        self.threshold = float_param("threshold", threshold, 0.0, 100.0)
        if self.period >= self.long_period:
            msg = (
                f"period must be below long_period, got period={self.period},"
                f" long_period={self.long_period}"
            )
            raise ValueError(msg)

    @property
    def warmup_bars(self) -> int:
        """The first bar with ``long_period`` returns behind it."""
        return self.long_period

    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """``vol_short``, ``vol_long``: rolling standard deviations of log returns."""
        close = candles["close"].to_numpy(dtype=np.float64)
        returns = pd.Series(np.log(close)).diff()
        short = returns.rolling(self.period, min_periods=self.period).std()
        long = returns.rolling(self.long_period, min_periods=self.long_period).std()
        return {
            "vol_short": short.to_numpy(dtype=np.float64),
            "vol_long": long.to_numpy(dtype=np.float64),
        }

    def label(self, bars: Bars, i: int) -> str | None:
        """``high`` or ``low`` at bar ``i``."""
        short, long = float(bars["vol_short"][i]), float(bars["vol_long"][i])
        if short != short or long != long:
            return None
        return "high" if short > self.threshold * long else "low"

    def get_config(self) -> StrategyConfig:
        """The parameters."""
        return {"period": self.period, "long_period": self.long_period, "threshold": self.threshold}


class StickyTrendRegime(TrendRegime):
    """Kaufman's efficiency ratio with hysteresis and a minimum duration, run bar by bar.

    ``trend`` begins when the ratio reaches ``enter``, and ends (``range``) when it falls
    below ``leave`` (``leave <= enter``): between the two the regime stays as it was. A
    regime lasts at least ``min_bars`` bars before it may change. A plain threshold flips
    whenever the ratio wanders across it; the band and the minimum keep a conditional
    ensemble from switching members on noise.

    The state at bar ``i`` is a forward pass over bars ``0..i`` (causal, streaming). A
    rolling window agrees with the full history from the first bar where the ratio left the
    band and the regime had lasted ``min_bars``: ``live_window_bars`` allows
    ``settle_bars`` for that.
    """

    name: ClassVar[str] = "sticky_trend"

    def __init__(
        self,
        period: int = 20,
        enter: float = 0.35,
        leave: float = 0.25,
        min_bars: int = 5,
        settle_bars: int = 500,
    ) -> None:
        """Check and keep the parameters.

        Raises:
            ValueError: a parameter is outside its range, or leave > enter.
        """
        super().__init__(period=period, threshold=enter)
        self.enter = self.threshold
        self.leave = float_param("leave", leave, 0.0, 1.0)
        self.min_bars = int_param("min_bars", min_bars, 1, MAX_PERIOD)
        self.settle_bars = int_param("settle_bars", settle_bars, 0, 100 * MAX_PERIOD)
        if self.leave > self.enter:
            msg = f"leave must be at most enter, got leave={self.leave:g}, enter={self.enter:g}"
            raise ValueError(msg)

    @property
    def live_window_bars(self) -> int:
        """The warm-up and ``settle_bars`` for the state to meet the full history's."""
        return self.warmup_bars + self.settle_bars + 1

    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """``efficiency`` and ``sticky_trend`` (1 trend, 0 range, NaN while warming up)."""
        efficiency = super().calculate(candles)["efficiency"]
        state = np.full(len(efficiency), np.nan)
        current, held = -1, 0  # no regime yet
        for i, value in enumerate(efficiency.tolist()):
            if value != value:  # NaN: warming up
                continue
            wanted = 1 if value >= self.enter else 0 if value < self.leave else current
            if current == -1:
                current, held = max(wanted, 0), 0
            elif wanted != current and held >= self.min_bars:
                current, held = wanted, 0
            held += 1
            state[i] = current
        return {"efficiency": efficiency, "sticky_trend": state}

    def label(self, bars: Bars, i: int) -> str | None:
        """``trend`` or ``range`` at bar ``i``."""
        value = float(bars["sticky_trend"][i])
        if value != value:
            return None
        return "trend" if value == 1.0 else "range"

    def get_config(self) -> StrategyConfig:
        """The parameters."""
        return {
            "period": self.period,
            "enter": self.enter,
            "leave": self.leave,
            "min_bars": self.min_bars,
            "settle_bars": self.settle_bars,
        }


REGIME_DETECTORS: Mapping[str, type[RegimeDetector]] = MappingProxyType(
    {cls.name: cls for cls in (TrendRegime, StickyTrendRegime, VolatilityRegime)}
)
"""The built-in regime detectors by name (read-only)."""
