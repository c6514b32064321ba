"""The model kinds a strategy or ``tradebot ml`` can name, without the libraries that fit them.

Apart from ``models.py`` (which imports scikit-learn) so that ``tradebot ml --help`` lists the
kinds without importing it.
"""

from __future__ import annotations

from enum import StrEnum


class ModelKind(StrEnum):
    """The classifiers on offer: scikit-learn's three and LightGBM's boosted trees."""

    RANDOM_FOREST = "random_forest"
    GRADIENT_BOOSTING = "gradient_boosting"
    LOGISTIC = "logistic"
    LIGHTGBM = "lightgbm"
