"""How a registered model was made (features, label, model, windows), as values and as JSON.

The registry stores a recipe as JSON in its row and reads it back into the same specs, so a
model loaded in another process computes exactly the features it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradebot.domain.errors import StateError
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.state.model_registry import JsonValue, ModelRecord

_FEATURE_FAMILIES = ("return_horizons", "volatility_windows", "volume_windows", "rsi_periods")


@dataclass(frozen=True, slots=True)
class Recipe:
    """Features, label and model, plus the windows of training and of its evaluation.

    ``train_bars`` bars feed each fit (the walk-forward folds' and the final one);
    ``test_bars`` is each walk-forward test window; ``embargo_bars`` and ``min_rows`` are
    ``training.train_rows``'s.
    """

    features: FeatureSpec = field(default_factory=FeatureSpec)
    label: LabelSpec = field(default_factory=LabelSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    train_bars: int = 500
    test_bars: int = 24
    embargo_bars: int = 0
    min_rows: int = 50

    def __post_init__(self) -> None:
        """Reject windows that cannot train.

        Raises:
            ValueError: a window below 1 bar (the embargo below 0), naming it.
        """
        for name, value, least in (
            ("train_bars", self.train_bars, 1),
            ("test_bars", self.test_bars, 1),
            ("embargo_bars", self.embargo_bars, 0),
            ("min_rows", self.min_rows, 1),
        ):
            if value < least:
                msg = f"{name} must be at least {least}, got {value}"
                raise ValueError(msg)


def recipe_json(
    recipe: Recipe,
) -> tuple[dict[str, JsonValue], dict[str, JsonValue], dict[str, JsonValue]]:
    """The recipe's features, label and parameters as JSON objects."""
    f = recipe.features
    features: dict[str, JsonValue] = {
        "return_horizons": list(f.return_horizons),
        "volatility_windows": list(f.volatility_windows),
        "volume_windows": list(f.volume_windows),
        "rsi_periods": list(f.rsi_periods),
    }
    label: dict[str, JsonValue] = {
        "horizon_bars": recipe.label.horizon_bars,
        "threshold": recipe.label.threshold,
        "barrier": recipe.label.barrier,
    }
    params: dict[str, JsonValue] = {
        "trees": recipe.model.trees,
        "seed": recipe.model.seed,
        "train_bars": recipe.train_bars,
        "test_bars": recipe.test_bars,
        "embargo_bars": recipe.embargo_bars,
        "min_rows": recipe.min_rows,
    }
    return features, label, params


def recipe_from_json(record: ModelRecord) -> Recipe:
    """The recipe ``record`` was trained with.

    Raises:
        StateError: the row's recipe is not one this version of tradebot reads.
    """
    where = f"model {record.model_id}"
    try:
        features = FeatureSpec(
            **{
                name: _ints(record.features.get(name), f"{where}: features.{name}")
                for name in _FEATURE_FAMILIES
            }
        )
        barrier = record.label.get("barrier")
        label = LabelSpec(
            horizon_bars=_int(record.label.get("horizon_bars"), f"{where}: label.horizon_bars"),
            threshold=_float(record.label.get("threshold"), f"{where}: label.threshold"),
            barrier=None if barrier is None else _float(barrier, f"{where}: label.barrier"),
        )
        p = record.params
        model = ModelSpec(
            ModelKind(record.kind),
            trees=_int(p.get("trees"), f"{where}: params.trees"),
            seed=_int(p.get("seed"), f"{where}: params.seed"),
        )
        return Recipe(
            features,
            label,
            model,
            train_bars=_int(p.get("train_bars"), f"{where}: params.train_bars"),
            test_bars=_int(p.get("test_bars"), f"{where}: params.test_bars"),
            embargo_bars=_int(p.get("embargo_bars"), f"{where}: params.embargo_bars"),
            min_rows=_int(p.get("min_rows"), f"{where}: params.min_rows"),
        )
    except ValueError as exc:
        raise StateError(f"{where}: its recipe cannot be read: {exc}") from exc


def _int(value: JsonValue, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateError(f"{where} is {value!r}, not an integer")
    return value


def _float(value: JsonValue, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateError(f"{where} is {value!r}, not a number")
    return float(value)


def _ints(value: JsonValue, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise StateError(f"{where} is {value!r}, not a list of integers")
    return tuple(_int(v, where) for v in value)
