"""The model kinds a strategy can name, each built with a fixed seed and one thread.

One thread and a fixed ``random_state`` make a fit a pure function of its rows: the same
training window gives the same model, and so the same predictions, in a backtest, in paper
trading and live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tradebot.ml.model_kind import ModelKind
from tradebot.strategy.base import FloatArray


class Classifier(Protocol):
    """What training and the strategy use of a scikit-learn classifier."""

    def fit(self, x: FloatArray, y: FloatArray) -> object:
        """Learn from rows ``x`` and labels ``y``."""

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Per row, the probability of each class in ``classes_`` order."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model kind with its few parameters: ``trees`` for the ensembles of trees (the
    forest, both boostings); logistic regression ignores it."""

    kind: ModelKind = ModelKind.RANDOM_FOREST
    trees: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        """Reject fewer than one tree.

        Raises:
            ValueError: ``trees`` < 1.
        """
        if self.trees < 1:
            msg = f"trees must be at least 1, got {self.trees}"
            raise ValueError(msg)


def make_model(spec: ModelSpec) -> Classifier:
    """A fresh, unfitted classifier as ``spec`` says."""
    if spec.kind is ModelKind.RANDOM_FOREST:
        forest: Classifier = RandomForestClassifier(
            n_estimators=spec.trees, min_samples_leaf=5, random_state=spec.seed, n_jobs=1
        )
        return forest
    if spec.kind is ModelKind.GRADIENT_BOOSTING:
        boosting: Classifier = GradientBoostingClassifier(
            n_estimators=spec.trees, max_depth=3, random_state=spec.seed
        )
        return boosting
    if spec.kind is ModelKind.LIGHTGBM:
        return _lightgbm(spec)
    logistic: Classifier = make_pipeline(StandardScaler(), LogisticRegression(C=1.0))
    return logistic


def _lightgbm(spec: ModelSpec) -> Classifier:
    # Imported here, not at the top: every `tradebot ml` command imports this module
    # (cli/ml_session.py) and LightGBM adds ~0.3 CPU s to that; only a lightgbm fit needs it
    # (a saved model's file imports it itself when loaded).
    from lightgbm import LGBMClassifier

    # deterministic + row-wise histograms + one thread: the same rows give the same trees
    model: Classifier = LGBMClassifier(
        n_estimators=spec.trees,
        random_state=spec.seed,
        n_jobs=1,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    return model
