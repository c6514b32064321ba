"""A dataset of features and labels, one row per bar, built from candles.

Rows stay aligned with bars (row ``i`` is bar ``i``, warm-up and unresolved rows included as
NaN), so walk-forward windows, purging and the strategy's retraining schedule all speak in
bar indices, as ``research.splits`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.strategy.base import FloatArray, IndexArray

BoolArray: TypeAlias = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Dataset:
    """Features ``x`` (bars × features), labels ``y`` and when each label is known."""

    ts_ms: IndexArray
    x: FloatArray
    y: FloatArray
    label_end: IndexArray
    feature_names: tuple[str, ...]
    horizon_bars: int

    @property
    def n_bars(self) -> int:
        """Rows, one per bar."""
        return len(self.ts_ms)

    @property
    def has_features(self) -> BoolArray:
        """Rows whose every feature has a value (past the warm-up)."""
        result: BoolArray = np.all(np.isfinite(self.x), axis=1)
        return result

    @property
    def has_label(self) -> BoolArray:
        """Rows whose label lies inside the data."""
        result: BoolArray = np.isfinite(self.y)
        return result


def build_dataset(candles: pd.DataFrame, features: FeatureSpec, label: LabelSpec) -> Dataset:
    """Features and labels for every bar of ``candles`` (``ts_ms`` column, OHLCV)."""
    ts = candles["ts_ms"].to_numpy(dtype=np.int64)
    return Dataset(
        ts_ms=ts,
        x=features.matrix(candles),
        y=label.values(candles["close"]),
        label_end=label.label_end(len(ts)),
        feature_names=features.names,
        horizon_bars=label.horizon_bars,
    )
