"""Causal strategies that look suspicious, for testing that the lookahead check passes them.

Each is honest: the value at bar ``i`` and the signal there depend on bars ``0..i`` only, in
ways a checker can mistake for a peek (recursive or expanding statistics, warm-up handling,
higher-timeframe candles, instance state, positions, filtered candidates, refitted models).
Not shipped.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from resources.strategies.peeks import BUY, SELL, Ensemble, SmaCross, crosses
from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, IndexArray, StrategyConfig

HOUR_MS = 3_600_000


class _Above(SmaCross):
    """BUY when the close crosses above the column ``x``, SELL when it crosses below."""

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if i < max(self.warmup_bars, 1):
            return HOLD
        close, x = bars["close"], bars["x"]
        if close[i - 1] <= x[i - 1] and close[i] > x[i]:
            return BUY
        if close[i - 1] >= x[i - 1] and close[i] < x[i]:
            return SELL
        return HOLD


class EwmTrend(_Above):
    """Two exponential averages (``adjust=True`` weights all history, which is still causal)."""

    name: ClassVar[str] = "ewm_trend"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"].ewm(span=20, adjust=True).mean()
        frame["ewm_slow"] = frame["close"].ewm(span=50, adjust=False).mean()
        return frame


class RollingMinPeriods(_Above):
    """A 50-bar mean that starts from 5 bars (``min_periods``): short windows, not peeks."""

    name: ClassVar[str] = "rolling_min_periods"

    @property
    def warmup_bars(self) -> int:
        return 5

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"].rolling(50, min_periods=5).mean()
        frame["range_max"] = frame["high"].rolling(30, min_periods=1).max()
        return frame


class PreviousBar(_Above):
    """The previous bar's high (``shift(+1)``): the past, one bar back."""

    name: ClassVar[str] = "previous_bar"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["high"].shift(1).rolling(3).max()
        return frame


class ExpandingZScore(_Above):
    """A z-score against the mean and deviation of all bars so far (``expanding``)."""

    name: ClassVar[str] = "expanding_zscore"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        close = frame["close"]
        mean, std = close.expanding(10).mean(), close.expanding(10).std()
        frame["zscore"] = (close - mean) / std
        frame["x"] = mean + 0.5 * std
        return frame


class CausalHigherTimeframe(_Above):
    """The last closed 4h candle's close on every 1h bar, from the bar that closes it on."""

    name: ClassVar[str] = "causal_4h"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        when = pd.to_datetime(frame["ts_ms"], unit="ms", utc=True)
        close_4h = frame["close"].set_axis(when).resample("4h").last()
        # A 4h candle is known at the close of its last 1h bar, the one opening 3h into it;
        # the newest, still forming, lands after the data and is dropped by the reindex.
        known = close_4h.set_axis(close_4h.index + pd.Timedelta(hours=3))
        frame["x"] = known.reindex(when).ffill().to_numpy()
        return frame


class AnchoredVwap(_Above):
    """The volume-weighted average price since the first bar (cumulative sums)."""

    name: ClassVar[str] = "anchored_vwap"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        typical = (frame["high"] + frame["low"] + frame["close"]) / 3
        frame["cum_volume"] = frame["volume"].cumsum()
        frame["x"] = (typical * frame["volume"]).cumsum() / frame["cum_volume"]
        return frame


class Cooldown(SmaCross):
    """No new BUY within 24 bars of the last one: state kept on the instance, from the past."""

    name: ClassVar[str] = "cooldown"

    def __init__(self, fast: int = 5, slow: int = 20) -> None:
        super().__init__(fast, slow)
        self.last_buy = -(10**9)

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        if side > 0 and i - self.last_buy >= 24:
            self.last_buy = i
            return BUY
        return SELL if side < 0 else HOLD


class TimedExit(SmaCross):
    """Leaves 12 bars after the entry or 2 % below the entry price: reads the position."""

    name: ClassVar[str] = "timed_exit"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        if position is None:
            return BUY if side > 0 else HOLD
        held_ms = int(bars.ts_ms[i]) - position.opened_ts_ms
        if held_ms >= 12 * HOUR_MS:
            return Signal(SignalAction.SELL, 0.5, "held 12 bars")
        if float(bars["close"][i]) < 0.98 * float(position.avg_price):
            return Signal(SignalAction.SELL, 0.5, "2 % below the entry")
        return SELL if side < 0 else HOLD


class FilteredCandidates(SmaCross):
    """Only busy crosses trade; ``signal_candidates`` is every cross, a superset."""

    name: ClassVar[str] = "filtered_candidates"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = super().calculate_indicators(candles)
        frame["busy"] = frame["volume"] > frame["volume"].rolling(20, min_periods=1).median()
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        if side != 0 and bars["busy"][i] > 0:
            return BUY if side > 0 else SELL
        return HOLD

    def signal_candidates(self, bars: Bars) -> IndexArray:
        frame = pd.DataFrame({"fast": bars["fast"], "slow": bars["slow"]})
        return np.flatnonzero(crosses(frame).to_numpy() != 0).astype(np.int64)


class WalkForwardModel(SmaCross):
    """A linear model of the next return refitted every 50 bars on the bars before the refit.

    The training window ends at the bar before each refit and the target is known by then:
    a walk-forward model, causal by construction.
    """

    name: ClassVar[str] = "walk_forward_model"

    @property
    def warmup_bars(self) -> int:
        return 60

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        ret = np.log(frame["close"]).diff().fillna(0.0).to_numpy()
        lagged = np.concatenate(([0.0], ret[:-1]))
        features = np.column_stack([np.ones(len(ret)), ret, lagged])
        forecast = np.full(len(ret), np.nan)
        for start in range(50, len(ret), 50):
            # Rows 0..start-2 have targets ret[1..start-1]: all known at bar start - 1.
            weights = np.linalg.lstsq(features[: start - 1], ret[1:start], rcond=None)[0]
            forecast[start : start + 50] = features[start : start + 50] @ weights
        frame["forecast"] = forecast
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        forecast = float(bars["forecast"][i])
        if i < self.warmup_bars or forecast != forecast:
            return HOLD
        return BUY if forecast > 0 else SELL

    def get_config(self) -> StrategyConfig:
        return {}


class ForwardFilled(_Above):
    """A busy bar's close carried forward (``ffill``), the causal twin of ``bfill``."""

    name: ClassVar[str] = "forward_filled"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        busy = frame["volume"] > frame["volume"].rolling(10, min_periods=1).mean()
        frame["x"] = frame["close"].where(busy).ffill()
        return frame


class HonestEnsemble(Ensemble):
    """Two honest members voting, one of them keeping state; built from other strategies."""

    name: ClassVar[str] = "honest_ensemble"

    def __init__(self) -> None:
        super().__init__((TimedExit(3, 12), Cooldown()))


class LongEwm(_Above):
    """A 100-bar exponential average: causal, but the default 300-bar live window is short."""

    name: ClassVar[str] = "long_ewm"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["x"] = frame["close"].ewm(span=100, adjust=False).mean()
        return frame


class NeedsLongWindow(LongEwm):
    """Declares a live window longer than live trading can keep."""

    name: ClassVar[str] = "needs_long_window"

    @property
    def live_window_bars(self) -> int:
        return 1500
