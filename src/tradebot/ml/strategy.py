"""``MLStrategy``: a classifier's probability of an up move, retrained on a fixed schedule.

The model deciding bar ``j`` was fitted at the close of the latest *fit bar* ``f <= j``, on
the rows of ``[f - train_bars, f)`` whose labels were known at ``f`` minus the embargo
(``training.train_rows``): no model sees a label that resolves after a bar it decides on.
Fit bars sit on a grid of time, every ``retrain_every`` bars counted from the Unix epoch,
not from the first candle, so a backtest over years and live trading on a rolling window
of ``live_window_bars`` candles fit the same models on the same rows (features are
bit-identical on any window, fits are seeded and single-threaded) and predict the same
probability at every bar.

With ``model_name`` it trades a registered model instead (``ml.registry``: the promoted model
of that name, its file verified on load) and never retrains: it predicts only bars at or after
the model's trained-until bar, since earlier bars' labels were among what it learned from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import MetadataValue, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.ml.dataset import Dataset, build_dataset
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.models import Classifier, ModelSpec
from tradebot.ml.params import features_param, label_param, model_param
from tradebot.ml.registry import LoadedModel, ModelRegistry
from tradebot.ml.training import TrainingError, fit, probability_up, train_rows
from tradebot.strategy.base import Bars, IndexArray, Strategy, StrategyConfig

PROBA = "ml_proba"
FIT_TS = "ml_fit_ts"
REGISTRY = "data/tradebot.db"
"""The database ``model_name`` is looked up in unless ``registry`` names another (the
config's default ``database.path``)."""
_S = TypeVar("_S")
_RETRAINING = {"train_bars": 500, "retrain_every": 24, "embargo_bars": 0, "min_rows": 50}


@dataclass(frozen=True, slots=True)
class _Fitted:
    model: Classifier | None  # None: too few rows at this fit bar
    why_not: str


class MLStrategy(Strategy):
    """BUY when the model's probability of an up move reaches ``buy_above``, SELL when it
    falls to ``sell_below``; HOLD while no model could be fitted yet.

    ``model_name`` trades the promoted registered model of that name, found in the database
    ``registry`` (its files in ``models_dir``, by default ``models/`` beside it).
    """

    name: ClassVar[str] = "ml"

    def __init__(
        self,
        features: FeatureSpec | str | None = None,
        label: LabelSpec | str | int | None = None,
        model: ModelSpec | str | None = None,
        *,
        train_bars: int = 500,
        retrain_every: int = 24,
        embargo_bars: int = 0,
        buy_above: float = 0.55,
        sell_below: float = 0.45,
        min_rows: int = 50,
        model_name: str = "",
        registry: str = REGISTRY,
        models_dir: str = "",
    ) -> None:
        """Check and keep the parameters; load the registered model ``model_name`` names.

        ``features``, ``label`` and ``model`` may be their config text (``ml.params``).

        Raises:
            ValueError: a window is not positive, the thresholds are out of order, or a
                retraining parameter is given with ``model_name`` (or a registry without it).
            ConfigError: a features, label or model text that cannot be read; no promoted
                model of that name in the registry.
            ArtefactError: the model's file is missing or changed since it was registered.
        """
        if train_bars < 1 or retrain_every < 1 or embargo_bars < 0 or min_rows < 1:
            msg = (
                "train_bars, retrain_every and min_rows must be at least 1 and embargo_bars"
                f" at least 0, got {train_bars}, {retrain_every}, {min_rows}, {embargo_bars}"
            )
            raise ValueError(msg)
        if not 0.0 <= sell_below < buy_above <= 1.0:
            msg = f"need 0 <= sell_below < buy_above <= 1, got {sell_below}, {buy_above}"
            raise ValueError(msg)
        self.features = _given(features, FeatureSpec, features_param)
        self.label = _given(label, LabelSpec, label_param)
        self.model = _given(model, ModelSpec, model_param)
        self.train_bars = train_bars
        self.retrain_every = retrain_every
        self.embargo_bars = embargo_bars
        self.buy_above = buy_above
        self.sell_below = sell_below
        self.min_rows = min_rows
        self._fitted: dict[int, _Fitted] = {}  # by fit bar ts_ms: a fit is a pure function
        self._registered: LoadedModel | None = None
        if model_name:
            given = {"features": features, "label": label, "model": model}
            self._registered = _load_registered(
                model_name, registry, models_dir, given, self._retraining()
            )
            self.features = self._registered.features
            self.label = self._registered.label
            self.model = self._registered.spec
        elif registry != REGISTRY or models_dir:
            msg = "registry and models_dir name where model_name is found: give model_name too"
            raise ValueError(msg)

    def _retraining(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _RETRAINING}

    @property
    def warmup_bars(self) -> int:
        """The first bar a model can be fitted at (features, one horizon, the minimum rows)."""
        if self._registered is not None:
            return self.features.warmup_bars
        purge = self.label.horizon_bars + self.embargo_bars
        return self.features.warmup_bars + purge + self.min_rows

    @property
    def live_window_bars(self) -> int:
        """Candles whose latest fit bar still has its whole training window and its features."""
        if self._registered is not None:
            return self.features.warmup_bars + 1
        return self.features.warmup_bars + self.train_bars + self.retrain_every

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Add ``ml_proba`` (NaN without a model) and ``ml_fit_ts`` (the model's fit bar).

        Raises:
            TrainingError: a history of at least ``live_window_bars`` candles could not fit
                its latest model (the counts say which filter left too few rows).
        """
        if self._registered is not None:
            return _registered_indicators(self._registered, candles)
        data = build_dataset(candles, self.features, self.label)
        proba = np.full(data.n_bars, np.nan)
        fit_ts = np.full(data.n_bars, np.nan)
        fit_bars = self.fit_bars(data.ts_ms)
        fitted = {int(data.ts_ms[f]): self._fit_at(data, int(f)) for f in fit_bars}
        self._fitted = fitted  # keep only the fits this history still holds
        for f, stop in zip(fit_bars, [*fit_bars[1:], data.n_bars], strict=True):
            found = fitted[int(data.ts_ms[f])]
            rows = np.arange(f, stop)
            rows = rows[data.has_features[rows]]
            if found.model is None or len(rows) == 0:
                continue
            proba[rows] = probability_up(found.model, data.x[rows])
            fit_ts[rows] = float(data.ts_ms[f])
        last = fitted[int(data.ts_ms[fit_bars[-1]])] if len(fit_bars) else None
        if last is not None and last.model is None and data.n_bars >= self.live_window_bars:
            raise TrainingError(last.why_not)
        frame = candles.copy()
        frame[PROBA] = proba
        frame[FIT_TS] = fit_ts
        return frame

    def fit_bars(self, ts_ms: IndexArray) -> IndexArray:
        """Bars that start a new block of ``retrain_every`` bars on the epoch's grid."""
        if len(ts_ms) < 2:
            return np.zeros(0, dtype=np.int64)
        bar_ms = int(np.diff(ts_ms).min())
        block = ts_ms // (bar_ms * self.retrain_every)
        starts = np.flatnonzero(np.diff(block, prepend=block[0] - 1) != 0)
        return starts.astype(np.int64)

    def _fit_at(self, data: Dataset, fit_bar: int) -> _Fitted:
        key = int(data.ts_ms[fit_bar])
        if key in self._fitted and self._fitted[key].model is not None:
            return self._fitted[key]
        try:
            rows = train_rows(
                data,
                fit_bar - self.train_bars,
                fit_bar,
                embargo_bars=self.embargo_bars,
                min_rows=self.min_rows,
            )
        except TrainingError as err:
            return _Fitted(None, str(err))
        return _Fitted(fit(data, rows, self.model), "")

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """BUY, SELL or HOLD at bar ``i`` from the model's probability, which it records."""
        p = float(bars[PROBA][i])
        if p != p:  # NaN: no model yet
            return Signal.hold("no model yet")
        if self._registered is not None:
            model_id = self._registered.record.model_id
        else:
            model_id = f"{self.model.kind}@{int(bars[FIT_TS][i])}"
        metadata: dict[str, MetadataValue] = {"model_id": model_id, "probability": p}
        if p >= self.buy_above:
            action, reason = SignalAction.BUY, f"P(up) {p:.3f} >= {self.buy_above:g}"
        elif p <= self.sell_below:
            action, reason = SignalAction.SELL, f"P(up) {p:.3f} <= {self.sell_below:g}"
        else:
            return Signal(SignalAction.HOLD, 0.0, f"P(up) {p:.3f}", metadata)
        confidence = abs(p - 0.5) * 2.0
        return Signal(action, confidence, f"{reason} ({model_id})", metadata)

    def get_config(self) -> StrategyConfig:
        """The parameters, flattened for the decision log."""
        config: dict[str, MetadataValue] = {}
        if self._registered is not None:
            record = self._registered.record
            config = {"model_name": record.name, "model_id": record.model_id}
        return config | {
            "features": ",".join(self.features.names),
            "label_horizon_bars": self.label.horizon_bars,
            "label_threshold": self.label.threshold,
            "label_barrier": self.label.barrier,
            "model": str(self.model.kind),
            "trees": self.model.trees,
            "seed": self.model.seed,
            "train_bars": self.train_bars,
            "retrain_every": self.retrain_every,
            "embargo_bars": self.embargo_bars,
            "buy_above": self.buy_above,
            "sell_below": self.sell_below,
        }


def _given(value: object, spec: type[_S], parse: Callable[[object], _S]) -> _S:
    # The spec itself (Python), the default (None) or its config text, parsed or refused.
    if value is None:
        return spec()
    return value if isinstance(value, spec) else parse(value)


def _load_registered(
    name: str,
    registry: str,
    models_dir: str,
    given: Mapping[str, object | None],
    retraining: dict[str, int],
) -> LoadedModel:
    # A registered model brings its own features, label and kind and is never retrained
    # here: a retraining setting given with it would be silently ignored, so refuse it.
    clashing = [k for k, v in given.items() if v is not None]
    clashing += [k for k, v in retraining.items() if v != _RETRAINING[k]]
    if clashing:
        msg = (
            f"model_name {name!r} trades a registered model as trained, never retrained:"
            f" drop {', '.join(clashing)}"
        )
        raise ValueError(msg)
    store = ModelRegistry.open(registry, Path(models_dir) if models_dir else None)
    try:
        return store.load_promoted(name)
    finally:
        store.close()


def _registered_indicators(loaded: LoadedModel, candles: pd.DataFrame) -> pd.DataFrame:
    # The model's probability on every bar at or after its trained-until bar that has its
    # features; NaN before (those bars' labels were in its training rows).
    x = loaded.features.matrix(candles)
    trained_until_ms = loaded.record.trained_until_ms
    usable = np.all(np.isfinite(x), axis=1)
    usable &= candles["ts_ms"].to_numpy(dtype=np.int64) >= trained_until_ms
    proba = np.full(len(candles), np.nan)
    fit_ts = np.full(len(candles), np.nan)
    if usable.any():
        proba[usable] = probability_up(loaded.classifier, x[usable])
        fit_ts[usable] = float(trained_until_ms)
    frame = candles.copy()
    frame[PROBA] = proba
    frame[FIT_TS] = fit_ts
    return frame
