"""``HmmRegime``: a hidden-Markov regime detector fitted on past bars and read forward only.

The model labelling bar ``j`` was fitted at the close of the latest *fit bar* ``f <= j`` on
the ``train_bars`` bars before ``f`` (never on ``f`` or later); fit bars sit on a grid of
``retrain_every`` bars counted from the Unix epoch, as ``MLStrategy``'s do. The state of
bar ``j`` is our own forward filter (``hmm.forward_filter``), started ``filter_bars`` bars
before ``f`` with that model and run to ``j``: never hmmlearn's ``predict`` or
``predict_proba``, which read the bars after ``j``. Every label is therefore a function of
a bounded, clock-anchored stretch of bars (features are bit-identical on any window, fits
are seeded): appending bars never changes a past label, and a rolling window of
``live_window_bars`` candles labels a bar exactly as the whole history does.

States are named by their mean volatility: ``low`` and ``high`` (two states), or ``low``,
``mid`` and ``high`` (three). Registered as the regime detector ``hmm`` (the ``ml`` extra).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from hmmlearn.hmm import GaussianHMM

from tradebot.ml.features import FeatureSpec
from tradebot.ml.hmm import fit_gaussian_hmm, forward_filter
from tradebot.strategy.base import FloatArray, IndexArray, StrategyConfig
from tradebot.strategy.builtin.params import MAX_PERIOD, int_param
from tradebot.strategy.regime import VOLATILITY_LEVELS, CodedRegimeDetector
from tradebot.strategy.regime_measures import run_ages


@dataclass(frozen=True, slots=True)
class _Fit:
    model: GaussianHMM
    mean: FloatArray  # the training rows' feature means and deviations: x is standardised
    scale: FloatArray
    ranks: IndexArray  # state -> index of its label, by mean volatility


class HmmRegime(CodedRegimeDetector):
    """Volatility regimes from a Gaussian HMM on the one-bar log return and the
    ``vol_bars``-bar volatility, refitted every ``retrain_every`` bars on the last
    ``train_bars`` bars, filtered forward only (see the module)."""

    name: ClassVar[str] = "hmm"
    labels: ClassVar[tuple[str, ...]] = VOLATILITY_LEVELS
    """``mid`` only with three states."""

    def __init__(
        self,
        n_states: int = 2,
        vol_bars: int = 24,
        train_bars: int = 720,
        retrain_every: int = 200,
        filter_bars: int = 200,
        seed: int = 0,
    ) -> None:
        """Check and keep the parameters; the defaults need 944 bars of history, within a
        live window (at most 998: ``orchestrator.paper.config_window``).

        Raises:
            ValueError: a parameter is outside its range, or filter_bars > train_bars.
        """
        self.n_states = int_param("n_states", n_states, 2, 3)
        self.vol_bars = int_param("vol_bars", vol_bars, 2, MAX_PERIOD)
        self.train_bars = int_param("train_bars", train_bars, 10 * self.n_states, 100 * MAX_PERIOD)
        self.retrain_every = int_param("retrain_every", retrain_every, 1, 100 * MAX_PERIOD)
        self.filter_bars = int_param("filter_bars", filter_bars, 0, 100 * MAX_PERIOD)
        self.seed = int_param("seed", seed, 0, 2**31 - 1)
        if self.filter_bars > self.train_bars:
            msg = f"filter_bars must be at most train_bars, got {filter_bars} > {train_bars}"
            raise ValueError(msg)
        self.features = FeatureSpec(
            return_horizons=(1,), volatility_windows=(self.vol_bars,), volume_windows=()
        )
        self._fits: dict[tuple[int, str], _Fit] = {}  # a fit is a pure function of its rows

    @property
    def warmup_bars(self) -> int:
        """The first bar a model can have been fitted at (labels start at the next fit bar)."""
        return self.features.warmup_bars + self.train_bars

    @property
    def live_window_bars(self) -> int:
        """Candles whose latest fit bar still has its whole training window and features."""
        return self.features.warmup_bars + self.train_bars + self.retrain_every

    def calculate(self, candles: pd.DataFrame) -> dict[str, FloatArray]:
        """``code``, ``confidence`` (the filtered probability of the state) and ``age``;
        NaN in a block whose fit bar lacks a whole training window."""
        x = self.features.matrix(candles)
        ts_ms = candles["ts_ms"].to_numpy(dtype=np.int64)
        n = len(x)
        code = np.full(n, np.nan)
        confidence = np.full(n, np.nan)
        fits: dict[tuple[int, str], _Fit] = {}
        starts = _fit_bars(ts_ms, self.retrain_every)
        for f, stop in zip(starts, [*starts[1:], n], strict=True):
            rows = x[f - self.train_bars : f] if f >= self.train_bars else x[:0]
            if len(rows) < self.train_bars or not np.isfinite(rows).all():
                continue
            key = (int(ts_ms[f]), hashlib.sha256(rows.tobytes()).hexdigest())
            fit = fits[key] = self._fits.get(key) or self._fit(rows)
            first = f - self.filter_bars
            z = (x[first:stop] - fit.mean) / fit.scale
            proba = forward_filter(fit.model, z)[f - first :]
            state = proba.argmax(axis=1)
            code[f:stop] = fit.ranks[state]
            confidence[f:stop] = proba.max(axis=1)
        self._fits = fits  # keep only the fits this history still holds
        return {"code": code, "confidence": confidence, "age": run_ages(code)}

    def _fit(self, rows: FloatArray) -> _Fit:
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        model = fit_gaussian_hmm((rows - mean) / scale, self.n_states, self.seed)
        by_volatility = np.argsort(np.asarray(model.means_)[:, 1], kind="stable")
        names = (0, 2) if self.n_states == 2 else (0, 1, 2)  # indexes into VOLATILITY_LEVELS
        ranks = np.empty(self.n_states, dtype=np.int64)
        ranks[by_volatility] = names
        return _Fit(model, mean, scale, ranks)

    def get_config(self) -> StrategyConfig:
        """The parameters."""
        return {
            "n_states": self.n_states,
            "vol_bars": self.vol_bars,
            "train_bars": self.train_bars,
            "retrain_every": self.retrain_every,
            "filter_bars": self.filter_bars,
            "seed": self.seed,
        }


def _fit_bars(ts_ms: IndexArray, every: int) -> list[int]:
    # Bars that start a new block of ``every`` bars on the epoch's clock.
    if len(ts_ms) < 2:
        return []
    bar_ms = int(np.diff(ts_ms).min())
    block = ts_ms // (bar_ms * every)
    return np.flatnonzero(np.diff(block, prepend=block[0] - 1) != 0).tolist()
