"""Regime detectors: a causal label per bar (trending or ranging, calm or wild) that a
conditional ensemble uses to choose which member decides, and an adaptive strategy to
choose its parameters.

A detector works like a strategy's two steps: ``calculate`` adds causal columns once over
the history (vectorised; the value at bar ``i`` reads bars ``0..i`` only), ``label`` reads
them at bar ``i`` and names the regime, or None while its columns warm up; ``regime`` adds
how sure it is and since when (``Regime``). A new detector subclasses ``RegimeDetector``
(or ``CodedRegimeDetector``, whose columns carry the label, confidence and age) and is
registered in ``REGIME_DETECTORS``; the ensemble needs nothing else from it. The hidden-Markov
detector lives in ``tradebot.ml.regime`` (it needs the ``ml`` extra) and is named ``hmm``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import MetadataValue
from tradebot.strategy.base import Bars, FloatArray, StrategyConfig
from tradebot.strategy.builtin.params import MAX_PERIOD, float_param, int_param
from tradebot.strategy.regime_measures import (
    anchored_chains,
    banded_level,
    rolling_volatility,
    run_ages,
    slope_strength,
    trailing_rank,
)


@dataclass(frozen=True, slots=True)
class Regime:
    """The regime at one bar: its label, how sure the detector is (0..1), and the open time
    of the first bar of the run of this label (within the history the detector was given:
    on a live window, a run older than the window reads from the window's first bar)."""

    label: str
    confidence: float
    since_ts_ms: int


def regime_metadata(state: Regime | None) -> dict[str, MetadataValue]:
    """What a signal decided under ``state`` records of it (the decision log keeps it):
    ``regime``, ``regime_confidence`` and ``regime_since`` (ts ms), or ``regime: None``
    while the detector warms up."""
    if state is None:
        return {"regime": None}
    return {
        "regime": state.label,
        "regime_confidence": state.confidence,
        "regime_since": state.since_ts_ms,
    }


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

    def regime(self, bars: Bars, i: int) -> Regime | None:
        """The label at bar ``i`` with its confidence and start (None while warming up).

        This default is for detectors that only name a label: confidence 1, and the start
        found by asking ``label`` at the bars before ``i`` until it differs (a cost that
        grows with the run's length; ``CodedRegimeDetector`` reads both from columns).
        """
        label = self.label(bars, i)
        if label is None:
            return None
        start = i
        while start > 0 and self.label(bars, start - 1) == label:
            start -= 1
        return Regime(label, 1.0, int(bars.ts_ms[start]))


class CodedRegimeDetector(RegimeDetector):
    """A detector whose ``calculate`` writes ``code`` (the index of the label in
    ``labels``, NaN while unknown), ``confidence`` and ``age`` (bars the code has held
    before the bar, ``regime_measures.run_ages``): the label, confidence and start of any
    bar are then three reads."""

    def label(self, bars: Bars, i: int) -> str | None:
        """The label ``code`` names at bar ``i``."""
        code = float(bars["code"][i])
        return None if code != code else self.labels[int(code)]

    def regime(self, bars: Bars, i: int) -> Regime | None:
        """Label, confidence and start read from the columns at bar ``i``."""
        code = float(bars["code"][i])
        if code != code:
            return None
        start = i - int(bars["age"][i])
        return Regime(self.labels[int(code)], float(bars["confidence"][i]), int(bars.ts_ms[start]))


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


VOLATILITY_LEVELS = ("low", "mid", "high")
TREND_LEVELS = ("range", "trend")


class VolTrendRegime(CodedRegimeDetector):
    """Volatility terciles × trend, with hysteresis and a minimum duration, run bar by bar.

    Volatility is the standard deviation of the last ``vol_bars`` one-bar log returns,
    ranked among its own last ``rank_bars`` values: below the lower tercile ``low``, above
    the upper ``high``, else ``mid``. Trend is ``regime_measures.slope_strength`` over
    ``trend_bars`` (the least-squares drift against the noise, about 1 on a driftless
    walk): ``trend`` from ``enter``, back to ``range`` below ``leave``. The labels are
    ``<volatility>_<trend>``: ``low_range`` ... ``high_trend``.

    Hysteresis: a volatility level is entered ``band`` beyond its tercile and left ``band``
    inside it; the trend between ``leave`` and ``enter`` stays as it was. A label lasts at
    least ``min_bars`` bars before it may change. Confidence: the share of the last
    ``min_bars`` bars whose plain reading (terciles and the midpoint of enter/leave, without
    hysteresis) names the label held now.

    Every measure is exact on any window of bars (``regime_measures``), and so is the state:
    the bars of each block of ``settle_bars`` bars on the epoch's clock are labelled by a
    state machine started afresh at the first bar of the block before
    (``regime_measures.anchored_chains``), so a label reads at most ``2 * settle_bars`` bars
    plus the warm-up, and a rolling window of ``live_window_bars`` labels each bar exactly
    as the whole history does. The price: where two machines have not met within a block,
    the label changes at the block's first bar without waiting ``min_bars``.
    """

    name: ClassVar[str] = "vol_trend"
    labels: ClassVar[tuple[str, ...]] = tuple(
        f"{v}_{t}" for v in VOLATILITY_LEVELS for t in TREND_LEVELS
    )

    def __init__(
        self,
        vol_bars: int = 24,
        rank_bars: int = 360,
        band: float = 0.05,
        trend_bars: int = 48,
        enter: float = 2.0,
        leave: float = 1.0,
        min_bars: int = 12,
        settle_bars: int = 240,
    ) -> None:
        """Check and keep the parameters; the defaults need 863 bars of history, within a
        live window (at most 998: ``orchestrator.paper.config_window``).

        Raises:
            ValueError: a parameter is outside its range, or leave > enter.
        """
        self.vol_bars = int_param("vol_bars", vol_bars, 2, MAX_PERIOD)
        self.rank_bars = int_param("rank_bars", rank_bars, 3, MAX_PERIOD)
        self.band = float_param("band", band, 0.0, 1 / 6)
        self.trend_bars = int_param("trend_bars", trend_bars, 3, MAX_PERIOD)
        self.enter = float_param("enter", enter, 0.0, 100.0)
        self.leave = float_param("leave", leave, 0.0, 100.0)
        self.min_bars = int_param("min_bars", min_bars, 1, MAX_PERIOD)
        self.settle_bars = int_param("settle_bars", settle_bars, 1, 100 * MAX_PERIOD)
        if self.leave > self.enter:
            msg = f"leave must be at most enter, got leave={self.leave:g}, enter={self.enter:g}"
            raise ValueError(msg)

    @property
    def warmup_bars(self) -> int:
        """The first bar with a volatility rank and a slope."""
        return max(self.vol_bars + self.rank_bars - 1, self.trend_bars - 1)

    @property
    def live_window_bars(self) -> int:
        """The warm-up and two blocks of ``settle_bars``: the latest bar's state machine
        started at the first bar of the block before its own (``anchored_chains``)."""
        return self.warmup_bars + 2 * self.settle_bars

    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """``volatility``, ``vol_rank``, ``trend_strength``, and ``code``, ``confidence``,
        ``age`` (see ``CodedRegimeDetector``)."""
        close = candles["close"].to_numpy(dtype=np.float64)
        volatility = rolling_volatility(close, self.vol_bars)
        rank = trailing_rank(volatility, self.rank_bars)
        strength = slope_strength(close, self.trend_bars)
        ts_ms = (
            candles["ts_ms"].to_numpy(dtype=np.int64)
            if "ts_ms" in candles.columns
            else np.arange(len(close), dtype=np.int64)
        )
        code = np.full(len(close), np.nan)
        for start, first, stop in anchored_chains(ts_ms, self.settle_bars):
            code[first:stop] = self._chain(rank[start:stop], strength[start:stop])[first - start :]
        midpoint = (self.enter + self.leave) / 2
        plain = 2 * ((rank >= 1 / 3).astype(np.float64) + (rank >= 2 / 3)) + (strength >= midpoint)
        plain[np.isnan(rank) | np.isnan(strength)] = np.nan
        return {
            "volatility": volatility,
            "vol_rank": rank,
            "trend_strength": strength,
            "code": code,
            "confidence": _agreement(plain, code, self.min_bars),
            "age": run_ages(code),
        }

    def _chain(self, rank: FloatArray, strength: FloatArray) -> FloatArray:
        # The state machine run afresh over these bars: a code per bar (NaN: warming up).
        b = self.band
        vol_up, vol_down = (1 / 3 + b, 2 / 3 + b), (1 / 3 - b, 2 / 3 - b)
        code = np.full(len(rank), np.nan)
        level, trend, held = -1, -1, 0  # no regime yet
        for i, (r, s) in enumerate(zip(rank.tolist(), strength.tolist(), strict=True)):
            if r != r or s != s:  # NaN: warming up
                continue
            wanted = (
                banded_level(r, level, vol_up, vol_down),
                banded_level(s, trend, (self.enter,), (self.leave,)),
            )
            if level < 0 or (wanted != (level, trend) and held >= self.min_bars):
                (level, trend), held = wanted, 0
            held += 1
            code[i] = 2 * level + trend
        return code

    def get_config(self) -> StrategyConfig:
        """The parameters."""
        return {
            "vol_bars": self.vol_bars,
            "rank_bars": self.rank_bars,
            "band": self.band,
            "trend_bars": self.trend_bars,
            "enter": self.enter,
            "leave": self.leave,
            "min_bars": self.min_bars,
            "settle_bars": self.settle_bars,
        }


def _agreement(plain: FloatArray, code: FloatArray, bars: int) -> FloatArray:
    # Share of the last ``bars`` plain readings equal to the code held now (NaN: unknown).
    padded = np.concatenate((np.full(bars - 1, np.nan), plain))
    windows = np.lib.stride_tricks.sliding_window_view(padded, bars)
    share = (windows == code[:, None]).sum(axis=1) / bars
    return np.where(np.isnan(code), np.nan, share)


REGIME_DETECTORS: Mapping[str, type[RegimeDetector]] = MappingProxyType(
    {cls.name: cls for cls in (TrendRegime, StickyTrendRegime, VolatilityRegime, VolTrendRegime)}
)
"""The built-in regime detectors by name (read-only)."""
