"""Training on purged windows, and a walk-forward evaluation of how a model would have done.

A row's label is known at the close of ``label_end``; a model fitted at the close of bar
``fit_bar`` may learn only from rows whose label is known by then, minus an embargo
(``train_rows``, the purge of López de Prado 2018 §7.4.1 in its walk-forward form). With
``purge=False`` the rows just before ``fit_bar`` keep labels that resolve after it: the
classic leak, kept only so a test can show what it does. The walk-forward windows are
``research.splits.walk_forward_folds``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from tradebot.domain.errors import DataError
from tradebot.ml.dataset import Dataset
from tradebot.ml.models import Classifier, ModelSpec, make_model
from tradebot.research.splits import walk_forward_folds
from tradebot.strategy.base import FloatArray, IndexArray

CALIBRATION_BINS = 5
"""Equal-width bins of predicted probability in the calibration table."""


class TrainingError(DataError):
    """Too few rows, or a single class, left to train on: the counts say which filter took them."""


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """Predictions in ``[low, high)``: how many, their mean, and how often the label was up."""

    low: float
    high: float
    count: int
    mean_predicted: float
    fraction_up: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Out-of-sample scores of a walk-forward evaluation, all test folds stitched together."""

    folds: int
    train_rows: int
    test_rows: int
    up_share_train: float
    up_share_test: float
    accuracy: float
    auc: float
    brier: float
    log_loss: float
    calibration: tuple[CalibrationBin, ...]


def train_rows(
    data: Dataset,
    start: int,
    fit_bar: int,
    *,
    embargo_bars: int = 0,
    purge: bool = True,
    min_rows: int = 50,
) -> IndexArray:
    """Rows a model fitted at the close of ``fit_bar`` may learn from, in ``[start, fit_bar)``.

    Raises:
        TrainingError: fewer than ``min_rows`` rows, or one class only, remain; the message
            counts what each filter (features, label, purge) left.
    """
    window = np.arange(max(start, 0), fit_bar, dtype=np.int64)
    with_features = window[data.has_features[window]]
    with_label = with_features[data.has_label[with_features]]
    rows = with_label
    if purge:
        rows = rows[data.label_end[rows] <= fit_bar - embargo_bars]
    classes = np.unique(data.y[rows])
    if len(rows) < min_rows or len(classes) < 2:
        msg = (
            f"too few rows to train at bar {fit_bar}: window {len(window)},"
            f" with features {len(with_features)}, with a known label {len(with_label)},"
            f" after purge and embargo ({data.horizon_bars}+{embargo_bars} bars) {len(rows)}"
            f" with {len(classes)} class(es); need {min_rows} and both classes"
        )
        raise TrainingError(msg)
    return rows


def fit(data: Dataset, rows: IndexArray, spec: ModelSpec) -> Classifier:
    """A model as ``spec`` says, fitted on ``rows``."""
    model = make_model(spec)
    model.fit(data.x[rows], data.y[rows])
    return model


def probability_up(model: Classifier, x: FloatArray) -> FloatArray:
    """The probability of the up class per row of ``x``."""
    proba = model.predict_proba(x)
    return np.asarray(proba[:, 1], dtype=np.float64)


def evaluate_walk_forward(
    data: Dataset,
    spec: ModelSpec,
    *,
    train_bars: int,
    test_bars: int,
    embargo_bars: int = 0,
    purge: bool = True,
    min_rows: int = 50,
) -> Evaluation:
    """Fit at the start of each walk-forward test window, predict it, and score the lot.

    Raises:
        TrainingError: a fold had too few rows to train on (counts in the message).
        ValueError: the data holds no complete fold.
    """
    folds = walk_forward_folds(data.n_bars, train_bars, test_bars)
    trained: list[IndexArray] = []
    tested: list[IndexArray] = []
    predicted: list[FloatArray] = []
    for fold in folds:
        rows = train_rows(
            data,
            fold.train_start,
            fold.test_start,
            embargo_bars=embargo_bars,
            purge=purge,
            min_rows=min_rows,
        )
        test = np.arange(fold.test_start, fold.test_end, dtype=np.int64)
        test = test[data.has_features[test] & data.has_label[test]]
        if len(test) == 0:
            continue
        model = fit(data, rows, spec)
        trained.append(rows)
        tested.append(test)
        predicted.append(probability_up(model, data.x[test]))
    return _score(data, folds=len(tested), trained=trained, tested=tested, predicted=predicted)


def _score(
    data: Dataset,
    *,
    folds: int,
    trained: list[IndexArray],
    tested: list[IndexArray],
    predicted: list[FloatArray],
) -> Evaluation:
    if not tested:
        msg = "no walk-forward test window holds a row with features and a known label"
        raise TrainingError(msg)
    y_train = data.y[np.concatenate(trained)]
    y_test = data.y[np.concatenate(tested)]
    p = np.concatenate(predicted)
    both = len(np.unique(y_test)) == 2
    return Evaluation(
        folds=folds,
        train_rows=len(y_train),
        test_rows=len(y_test),
        up_share_train=float(y_train.mean()),
        up_share_test=float(y_test.mean()),
        accuracy=float(((p >= 0.5) == (y_test == 1.0)).mean()),
        auc=float(roc_auc_score(y_test, p)) if both else float("nan"),
        brier=float(brier_score_loss(y_test, p)),
        log_loss=float(log_loss(y_test, p, labels=[0.0, 1.0])),
        calibration=calibration_table(y_test, p),
    )


def calibration_table(y: FloatArray, p: FloatArray) -> tuple[CalibrationBin, ...]:
    """Predicted probability against the share of up labels, in equal-width bins."""
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    table = []
    for b in range(CALIBRATION_BINS):
        inside = which == b
        count = int(inside.sum())
        table.append(
            CalibrationBin(
                low=float(edges[b]),
                high=float(edges[b + 1]),
                count=count,
                mean_predicted=float(p[inside].mean()) if count else float("nan"),
                fraction_up=float(y[inside].mean()) if count else float("nan"),
            )
        )
    return tuple(table)
