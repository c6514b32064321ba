"""Training: the planted leak, loud failures with counts, and the reported scores."""

from __future__ import annotations

import numpy as np
import pytest

from factories import make_candles
from tradebot.ml.dataset import build_dataset
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.ml.training import (
    TrainingError,
    calibration_table,
    evaluate_walk_forward,
    fit,
    probability_up,
    train_rows,
)

# Slow features move little from bar to bar, so the rows just before a fit bar are the test
# rows' nearest neighbours; their 48-bar labels overlap the test labels unless purged.
SLOW = FeatureSpec(return_horizons=(96, 192), volatility_windows=(), volume_windows=())
FOREST = ModelSpec(ModelKind.RANDOM_FOREST, trees=20)


def test_evaluate_planted_leak_beats_chance_unpurged_and_not_purged() -> None:
    # Arrange: a random walk (nothing to predict) and a label 48 bars ahead
    data = build_dataset(make_candles(1000, seed=8), SLOW, LabelSpec(horizon_bars=48))

    # Act
    leaky = evaluate_walk_forward(data, FOREST, train_bars=400, test_bars=4, purge=False)
    purged = evaluate_walk_forward(data, FOREST, train_bars=400, test_bars=4, purge=True)

    # Assert: measured 0.80 / 0.87 AUC leaky, 0.51 / 0.51 purged (seed 8)
    assert leaky.accuracy > 0.7
    assert leaky.auc > 0.75
    assert 0.4 < purged.accuracy < 0.6
    assert 0.4 < purged.auc < 0.6
    assert purged.train_rows < leaky.train_rows  # the purge dropped 48 rows per fold


def test_train_rows_purged_labels_all_known_at_fit_bar() -> None:
    data = build_dataset(make_candles(400, seed=1), SLOW, LabelSpec(horizon_bars=10))

    rows = train_rows(data, 200, 390, embargo_bars=5)

    assert int(data.label_end[rows].max()) <= 385
    assert rows.min() >= 200
    assert len(rows) == 385 - 10 - 200 + 1


def test_train_rows_too_few_raises_with_each_filter_count() -> None:
    data = build_dataset(make_candles(400, seed=1), SLOW, LabelSpec(horizon_bars=10))

    with pytest.raises(TrainingError) as err:
        train_rows(data, 100, 250, min_rows=100)

    assert str(err.value) == (
        "too few rows to train at bar 250: window 150, with features 58,"
        " with a known label 58, after purge and embargo (10+0 bars) 49 with 2 class(es);"
        " need 100 and both classes"
    )


@pytest.mark.parametrize("kind", list(ModelKind))
def test_evaluate_each_kind_reports_balance_and_calibration(kind: ModelKind) -> None:
    data = build_dataset(make_candles(600, seed=4), FeatureSpec(), LabelSpec(horizon_bars=6))

    result = evaluate_walk_forward(data, ModelSpec(kind, trees=10), train_bars=300, test_bars=100)

    assert result.folds == 3
    assert result.test_rows == 300 - 6  # the last 6 labels are not known yet
    assert 0.3 < result.up_share_test < 0.7
    assert sum(b.count for b in result.calibration) == result.test_rows
    assert 0.0 <= result.brier <= 1.0
    assert 0.5 < result.log_loss < 1.5  # ln 2 = 0.69 is a coin's


def test_calibration_table_bins_predictions_and_counts_ups() -> None:
    y = np.array([0.0, 1.0, 1.0, 1.0])
    p = np.array([0.1, 0.15, 0.9, 1.0])

    table = calibration_table(y, p)

    assert [b.count for b in table] == [2, 0, 0, 0, 2]
    assert table[0].fraction_up == 0.5
    assert table[4].mean_predicted == pytest.approx(0.95)


def test_fit_lightgbm_twice_on_the_same_rows_predicts_bit_identically() -> None:
    # backtest and live fit separately; one thread and deterministic=True make them agree
    data = build_dataset(make_candles(500, seed=9), FeatureSpec(), LabelSpec(horizon_bars=6))
    rows = train_rows(data, 100, 400)
    spec = ModelSpec(ModelKind.LIGHTGBM, trees=30, seed=3)

    first = probability_up(fit(data, rows, spec), data.x[400:])
    second = probability_up(fit(data, rows, spec), data.x[400:])

    assert first.tobytes() == second.tobytes()
    assert first.std() > 0.05  # a real model, not a constant
