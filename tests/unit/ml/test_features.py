"""Features and labels: causal, bit-identical on any window, labels known h bars later."""

from __future__ import annotations

import numpy as np
import pytest

from factories import make_candles
from tradebot.ml.dataset import build_dataset
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec

SPEC = FeatureSpec(return_horizons=(1, 6), volatility_windows=(12,), volume_windows=(8,))


def test_feature_columns_prefix_of_history_gives_identical_values() -> None:
    # Arrange
    candles = make_candles(400, seed=3)
    full = SPEC.matrix(candles)

    # Act / Assert: bar j's features from candles[:j+1], and from a window starting later
    for j in (30, 150, 399):
        prefix = SPEC.matrix(candles.iloc[: j + 1])
        np.testing.assert_array_equal(prefix[j], full[j])
    window = SPEC.matrix(candles.iloc[200:].reset_index(drop=True))
    np.testing.assert_array_equal(window[SPEC.warmup_bars :], full[200 + SPEC.warmup_bars :])


def test_feature_columns_before_warmup_are_nan_then_all_present() -> None:
    x = SPEC.matrix(make_candles(100, seed=1))

    assert SPEC.warmup_bars == 12
    assert np.isnan(x[SPEC.warmup_bars - 1]).any()
    assert np.isfinite(x[SPEC.warmup_bars :]).all()
    assert SPEC.names == ("ret_1", "ret_6", "vol_12", "volume_8")


def test_feature_spec_short_window_raises_with_name() -> None:
    with pytest.raises(ValueError, match="volatility_windows must all be at least 2"):
        FeatureSpec(volatility_windows=(1,))


def test_label_up_after_horizon_and_unknown_at_the_end() -> None:
    close = np.array([10.0, 11.0, 9.0, 12.0, 12.0])

    y = LabelSpec(horizon_bars=2).values(close)

    np.testing.assert_array_equal(y[:3], [0.0, 1.0, 1.0])  # 9<10, 12>11, 12>9
    assert np.isnan(y[3:]).all()
    np.testing.assert_array_equal(LabelSpec(horizon_bars=2).label_end(3), [2, 3, 4])


def test_build_dataset_rows_align_with_bars() -> None:
    candles = make_candles(120, seed=2)

    data = build_dataset(candles, SPEC, LabelSpec(horizon_bars=5))

    assert data.x.shape == (120, 4)
    assert int(data.has_features.sum()) == 120 - SPEC.warmup_bars
    assert int(data.has_label.sum()) == 115
    assert data.label_end[0] == 5


def test_label_triple_barrier_first_touch_decides() -> None:
    # Arrange: from 100, bar 0's path touches +5% (bar 2) before -5% (bar 3); bar 1's path
    # (from 103) touches -5% at bar 3 first; bar 2's (from 106) falls through -5% at bar 3
    close = np.array([100.0, 103.0, 106.0, 94.0, 95.0, 96.0])
    spec = LabelSpec(horizon_bars=3, barrier=0.05)

    # Act
    y = spec.values(close)

    # Assert
    np.testing.assert_array_equal(y[:3], [1.0, 0.0, 0.0])
    assert np.isnan(y[3:]).all()


def test_label_triple_barrier_untouched_falls_back_to_horizon_return() -> None:
    close = np.array([100.0, 101.0, 102.0, 101.5, 99.0])

    y = LabelSpec(horizon_bars=2, barrier=0.10).values(close)

    np.testing.assert_array_equal(y[:3], [1.0, 1.0, 0.0])  # 102>100, 101.5>101, 99<102
