"""Strategies that peek the ways users' strategies do, and that today's check missed. Not shipped.

Most trade an SMA cross of the close (``fast`` over ``slow`` bars): BUY on the cross up,
SELL on the cross down; each then peeks in its own way, in ``calculate_indicators``, in
``generate_signals``, in instance state or in ``signal_candidates``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, IndexArray, Strategy, StrategyConfig

BUY = Signal(SignalAction.BUY, 0.5, "cross up")
SELL = Signal(SignalAction.SELL, 0.5, "cross down")


class SmaCross(Strategy):
    """The honest base: SMA(fast) crossing SMA(slow) of the close."""

    name: ClassVar[str] = "sma_cross"

    def __init__(self, fast: int = 5, slow: int = 20) -> None:
        self.fast = fast
        self.slow = slow

    @property
    def warmup_bars(self) -> int:
        return self.slow

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        frame["fast"] = frame["close"].rolling(self.fast).mean()
        frame["slow"] = frame["close"].rolling(self.slow).mean()
        return frame

    def cross(self, bars: Bars, i: int) -> int:
        """+1 on a cross up at bar ``i``, -1 on a cross down, else 0."""
        if i < self.warmup_bars:
            return 0
        fast, slow = bars["fast"], bars["slow"]
        if fast[i - 1] <= slow[i - 1] and fast[i] > slow[i]:
            return 1
        if fast[i - 1] >= slow[i - 1] and fast[i] < slow[i]:
            return -1
        return 0

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        return BUY if side > 0 else SELL if side < 0 else HOLD

    def get_config(self) -> StrategyConfig:
        return {"fast": self.fast, "slow": self.slow}


def crosses(frame: pd.DataFrame) -> pd.Series:
    """+1/-1/0 per bar for the SMA cross, vectorised (the same rule as ``SmaCross.cross``)."""
    above = frame["fast"] > frame["slow"]
    below = frame["fast"] < frame["slow"]
    up = above & ~above.shift(1, fill_value=True)
    down = below & ~below.shift(1, fill_value=True)
    return up.astype(int) - down.astype(int)


class HeldNextBar(SmaCross):
    """Enters on the cross up; while holding, leaves before a lower next close (``close[i+1]``).

    The old check asked for signals only when flat, so it never reached the peek.
    """

    name: ClassVar[str] = "held_next_bar"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if position is None:
            return BUY if self.cross(bars, i) > 0 else HOLD
        close = bars["close"]
        if i + 1 < len(close) and close[i + 1] < close[i]:
            return Signal(SignalAction.SELL, 0.5, "the next close is lower")
        return HOLD


class HeldNextBarUnguarded(HeldNextBar):
    """The same exit without the length guard: ``close[i + 1]`` read outright while holding."""

    name: ClassVar[str] = "held_next_bar_unguarded"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if position is None:
            return BUY if self.cross(bars, i) > 0 else HOLD
        close = bars["close"]
        if close[i + 1] < close[i]:
            return Signal(SignalAction.SELL, 0.5, "the next close is lower")
        return HOLD


class FitOnceThreshold(SmaCross):
    """A volume threshold fitted once, on the first history it sees, and kept on the instance.

    A backtest shows it the whole history first: bar 100 is filtered with a quantile of
    volumes that had not happened yet.
    """

    name: ClassVar[str] = "fit_once_threshold"

    def __init__(self, fast: int = 5, slow: int = 20) -> None:
        super().__init__(fast, slow)
        self.threshold: float | None = None

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = super().calculate_indicators(candles)
        if self.threshold is None:
            self.threshold = float(frame["volume"].quantile(0.6))
        frame["busy"] = (frame["volume"] > self.threshold).astype(float)
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        if side > 0 and bars["busy"][i] > 0:
            return BUY
        return SELL if side < 0 else HOLD


class BackfilledWarmup(SmaCross):
    """The warm-up NaNs of the slow SMA back-filled from the first full window."""

    name: ClassVar[str] = "backfilled_warmup"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = super().calculate_indicators(candles)
        frame["slow"] = frame["slow"].bfill()
        frame["fast"] = frame["fast"].bfill()
        return frame


class ConfirmedCross(SmaCross):
    """A cross up is confirmed when the next close is higher: ``close.shift(-1)`` in a column."""

    name: ClassVar[str] = "confirmed_cross"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = super().calculate_indicators(candles)
        rising = frame["close"].shift(-1) > frame["close"]
        frame["confirmed"] = ((crosses(frame) > 0) & rising).astype(float)
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if bars["confirmed"][i] > 0:
            return BUY
        return SELL if self.cross(bars, i) < 0 else HOLD


class ConfirmedCrossInSignal(SmaCross):
    """The confirmation read in ``generate_signals``: ``close[i + 1]``, only at a cross."""

    name: ClassVar[str] = "confirmed_cross_in_signal"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        close = bars["close"]
        if side > 0 and close[i + 1] > close[i]:
            return BUY
        return SELL if side < 0 else HOLD


class CandidatesNextBar(SmaCross):
    """Honest signals, but ``signal_candidates`` keeps only crosses the next bar confirms.

    The backtester never visits the crosses it drops, so their losing trades vanish.
    """

    name: ClassVar[str] = "candidates_next_bar"

    def signal_candidates(self, bars: Bars) -> IndexArray:
        fast, slow, close = bars["fast"], bars["slow"], bars["close"]
        up = (fast[:-1] <= slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] >= slow[:-1]) & (fast[1:] < slow[1:])
        rising = np.concatenate((close[2:] > close[1:-1], [False]))
        return (np.flatnonzero((up & rising) | down) + 1).astype(np.int64)


class CandidatesBusyHistory(SmaCross):
    """``signal_candidates`` drops crosses on bars quieter than the whole history's median."""

    name: ClassVar[str] = "candidates_busy_history"

    def signal_candidates(self, bars: Bars) -> IndexArray:
        fast, slow, volume = bars["fast"], bars["slow"], bars["volume"]
        up = (fast[:-1] <= slow[:-1]) & (fast[1:] > slow[1:])
        down = (fast[:-1] >= slow[:-1]) & (fast[1:] < slow[1:])
        busy = volume[1:] > np.median(volume)
        return (np.flatnonzero((up | down) & busy) + 1).astype(np.int64)


class StashedNextClose(SmaCross):
    """Keeps the closes it was given on the instance and confirms a cross with the next one.

    ``generate_signals`` reads ``self._closes``, not the bars, so no view can stop it.
    """

    name: ClassVar[str] = "stashed_next_close"

    def __init__(self, fast: int = 5, slow: int = 20) -> None:
        super().__init__(fast, slow)
        self._closes = np.empty(0)

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        self._closes = candles["close"].to_numpy(dtype=np.float64)
        return super().calculate_indicators(candles)

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        stash = self._closes
        if side > 0 and i + 1 < len(stash) and stash[i + 1] > stash[i]:
            return BUY
        return SELL if side < 0 else HOLD


class StashedVeto(StashedNextClose):
    """Skips a cross up when the stashed next close is lower: the peek only removes signals.

    The full history never signals where the peek acts, so no after-signal cut lands there.
    """

    name: ClassVar[str] = "stashed_veto"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        stash = self._closes
        if side > 0 and not (i + 1 < len(stash) and stash[i + 1] < stash[i]):
            return BUY
        return SELL if side < 0 else HOLD


class FitOnceModel(SmaCross):
    """A linear model of the next return, trained once on the first history it is shown.

    The classic machine-learning leak: in a backtest the training set is the test set.
    """

    name: ClassVar[str] = "fit_once_model"

    def __init__(self, fast: int = 5, slow: int = 20) -> None:
        super().__init__(fast, slow)
        self.weights: np.ndarray | None = None

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        ret = np.log(frame["close"]).diff().fillna(0.0).to_numpy()
        lagged = np.concatenate(([0.0], ret[:-1]))
        features = np.column_stack([np.ones(len(ret)), ret, lagged])
        if self.weights is None:
            target = np.concatenate((ret[1:], [0.0]))
            self.weights = np.linalg.lstsq(features, target, rcond=None)[0]
        frame["forecast"] = features @ self.weights
        return frame

    @property
    def warmup_bars(self) -> int:
        return 2

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if i < self.warmup_bars:
            return HOLD
        forecast = bars["forecast"][i]
        if forecast > 0:
            return Signal(SignalAction.BUY, 0.5, "model says up")
        return Signal(SignalAction.SELL, 0.5, "model says down")


class Ensemble(Strategy):
    """BUY when any member says BUY, SELL when any says SELL: built from other strategies.

    Each member's indicator columns are stored as ``m<n>.<column>`` and handed back to it
    under their own names, with the candles, in a ``Bars`` of the same (bounded) arrays.
    """

    name: ClassVar[str] = "ensemble"

    def __init__(self, members: tuple[Strategy, ...] = ()) -> None:
        self.members = members
        self._columns: list[dict[str, str]] = []

    @property
    def warmup_bars(self) -> int:
        return max(m.warmup_bars for m in self.members)

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = candles.copy()
        self._columns = []
        for n, member in enumerate(self.members):
            own = member.calculate_indicators(candles)
            added = {f"m{n}.{c}": c for c in own.columns.difference(candles.columns)}
            for stored, column in added.items():
                frame[stored] = own[column]
            base = ("open", "high", "low", "close", "volume")
            self._columns.append(added | {c: c for c in base})
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        actions = set()
        for member, columns in zip(self.members, self._columns, strict=True):
            own = Bars(bars.ts_ms, {plain: bars[stored] for stored, plain in columns.items()})
            actions.add(member.generate_signals(own, i, position).action)
        for action in (SignalAction.BUY, SignalAction.SELL):
            if action in actions:
                return Signal(action, 0.5, f"a member says {action}")
        return HOLD

    def get_config(self) -> StrategyConfig:
        return {"members": ",".join(m.name for m in self.members)}


class EnsembleWithPeeker(Ensemble):
    """An honest SMA cross together with ``HeldNextBar``: one member peeks while holding."""

    name: ClassVar[str] = "ensemble_with_peeker"

    def __init__(self) -> None:
        super().__init__((SmaCross(3, 12), HeldNextBar()))


class DayHigh(SmaCross):
    """Buys a cross up only far below the day's high, which the day has not finished making."""

    name: ClassVar[str] = "day_high"

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        frame = super().calculate_indicators(candles)
        day = frame["ts_ms"] // 86_400_000
        frame["day_high"] = frame.groupby(day)["high"].transform("max")
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        side = self.cross(bars, i)
        if side > 0 and bars["close"][i] < 0.99 * bars["day_high"][i]:
            return BUY
        return SELL if side < 0 else HOLD
