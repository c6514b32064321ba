"""The model registry: train a model on candles, keep it with its recipe, load it back intact.

A registered model is a row of ``ml_models`` (``tradebot.state.model_registry``: the recipe,
the data's range and sha256, the time until which it was trained, its out-of-sample scores,
its status) plus its joblib file in the ``models`` folder beside the database, whose sha256
is checked before it is loaded (``ml.artefact``). Models are ``<name>-<version>``; at most one
per name is promoted, and a strategy trades the promoted one.

Training (``train``) first scores the recipe walk-forward and purged over the data
(``training.evaluate_walk_forward``: accuracy, AUC, Brier, log loss, class balance,
calibration), then fits the model at the close of the last bar on the last ``train_bars``
bars, purged as ``MLStrategy`` is: every label it learns from is known by then.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tradebot.data.frame import fmt_ts
from tradebot.domain.errors import ConfigError
from tradebot.ml.artefact import read_artefact, write_artefact
from tradebot.ml.dataset import build_dataset
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.models import Classifier, ModelSpec
from tradebot.ml.recipe import Recipe, recipe_from_json, recipe_json
from tradebot.ml.training import (
    Evaluation,
    TrainingError,
    evaluate_walk_forward,
    fit,
    train_rows,
)
from tradebot.state import Database, create_database
from tradebot.state.model_registry import JsonValue, ModelRecord, ModelStatus, ModelTable
from tradebot.state.url import database_url

MODELS_FOLDER = "models"
"""The folder beside a SQLite database that holds its models' files."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.]{0,47}")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A registered model, its file verified and loaded, with the specs it was trained on."""

    record: ModelRecord
    features: FeatureSpec
    label: LabelSpec
    spec: ModelSpec
    classifier: Classifier


class ModelRegistry:
    """Registered models of one database and their files."""

    def __init__(self, database: Database, models_dir: Path) -> None:
        """Keep models' rows in ``database`` (migrated) and their files in ``models_dir``."""
        self._database = database
        self._table = ModelTable(database)
        self.models_dir = models_dir

    @classmethod
    def open(
        cls, url_or_path: str | Path, models_dir: Path | None = None, *, create: bool = False
    ) -> ModelRegistry:
        """The registry of the database ``url_or_path`` (SQLite path or URL).

        The files go to ``models_dir``, by default the ``models`` folder beside a SQLite
        database. Without ``create`` the database must exist (reading never makes one).

        Raises:
            ConfigError: no database there and not ``create``; a database that is not a
                SQLite file and no ``models_dir``.
            StateError: the database cannot be used (``create_database``).
        """
        url = database_url(url_or_path)
        sqlite_file = Path(url.database or "") if url.get_backend_name() == "sqlite" else None
        if models_dir is None:
            if sqlite_file is None:
                msg = (
                    f"the registry at {url.render_as_string(hide_password=True)} is a database"
                    " server, which holds no files: name the models' folder (--models-dir, or"
                    " models_dir in the strategy's params)"
                )
                raise ConfigError(msg)
            models_dir = sqlite_file.parent / MODELS_FOLDER
        if sqlite_file is not None and not create and not sqlite_file.is_file():
            msg = (
                f"no model registry at {sqlite_file}: train a model with"
                f" `tradebot ml train --db {sqlite_file}`, or name the database that holds it"
            )
            raise ConfigError(msg)
        return cls(create_database(url), models_dir)

    def close(self) -> None:
        """Close the database connections."""
        self._database.close()

    def models(self, name: str | None = None) -> list[ModelRecord]:
        """Every registered model (of ``name`` only, when given), oldest first."""
        return self._table.models(name)

    def train(
        self, name: str, candles: pd.DataFrame, source: str, recipe: Recipe, now_ms: int
    ) -> ModelRecord:
        """Score ``recipe`` on ``candles``, fit it, save its file and register it as a candidate.

        Raises:
            ConfigError: ``name`` is not a valid model name.
            TrainingError: the data holds too few rows for a fold or the final fit (the
                message counts the bars and what each filter left).
        """
        if not _NAME.fullmatch(name):
            msg = (
                f"--name {name!r}: a model name is 1-48 letters, digits, _ or ., starting with"
                " a letter or digit"
            )
            raise ConfigError(msg)
        classifier, metrics, trained_until_ms = train(candles, source, recipe)
        version = self._table.next_version(name)
        model_id = f"{name}-{version}"
        artefact, artefact_sha256 = write_artefact(classifier, self.models_dir, model_id)
        features, label, params = recipe_json(recipe)
        record = ModelRecord(
            model_id=model_id,
            name=name,
            version=version,
            kind=recipe.model.kind.value,
            features=features,
            label=label,
            params=params,
            data_source=source,
            data_start_ms=int(candles["ts_ms"].iloc[0]),
            data_end_ms=int(candles["ts_ms"].iloc[-1]),
            data_sha256=candles_sha256(candles),
            trained_until_ms=trained_until_ms,
            metrics=metrics,
            artefact=artefact,
            artefact_sha256=artefact_sha256,
            status=ModelStatus.CANDIDATE,
            created_ts_ms=now_ms,
        )
        try:
            self._table.add(record)
        except BaseException:
            (self.models_dir / artefact).unlink()  # no file without its row
            raise
        return record

    def load(self, model_id: str) -> LoadedModel:
        """The model ``model_id`` with its file verified and loaded.

        Raises:
            ConfigError: no model has that id.
            ArtefactError: its file is missing or changed since it was registered.
        """
        record = self._table.get(model_id)
        if record is None:
            msg = f"no model {model_id!r} in the registry: `tradebot ml list` shows the ids"
            raise ConfigError(msg)
        return self._loaded(record)

    def load_promoted(self, name: str) -> LoadedModel:
        """The promoted model of ``name``, its file verified and loaded.

        Raises:
            ConfigError: no model of that name is promoted.
            ArtefactError: its file is missing or changed since it was registered.
        """
        record = self._table.promoted(name)
        if record is None:
            known = sorted(
                {m.name for m in self._table.models() if m.status is ModelStatus.PROMOTED}
            )
            msg = (
                f"no promoted model named {name!r} in the registry (promoted: "
                f"{', '.join(known) or 'none'}); promote one with `tradebot ml promote MODEL_ID`"
            )
            raise ConfigError(msg)
        return self._loaded(record)

    def promote(self, model_id: str, now_ms: int) -> ModelRecord:
        """Make ``model_id`` the promoted model of its name, once its file checks out.

        Raises:
            ConfigError: no model has that id.
            ArtefactError: its file is missing or changed: a broken model is never promoted.
        """
        self.load(model_id)
        return self._table.promote(model_id, now_ms)

    def _loaded(self, record: ModelRecord) -> LoadedModel:
        classifier = read_artefact(
            self.models_dir / record.artefact, record.artefact_sha256, record.model_id
        )
        recipe = recipe_from_json(record)
        return LoadedModel(record, recipe.features, recipe.label, recipe.model, classifier)


def train(
    candles: pd.DataFrame, source: str, recipe: Recipe
) -> tuple[Classifier, dict[str, JsonValue], int]:
    """Score ``recipe`` walk-forward on ``candles``, then fit it at the close of the last bar.

    Returns the fitted model, its metrics and the open time of the bar it was fitted at.

    Raises:
        TrainingError: too few rows for a fold or for the final fit, with the counts.
    """
    data = build_dataset(candles, recipe.features, recipe.label)
    where = f"{source}: {data.n_bars} bars"
    if data.n_bars:
        where += f" from {fmt_ts(int(data.ts_ms[0]))} to {fmt_ts(int(data.ts_ms[-1]))}"
    fit_bar = data.n_bars - 1
    try:
        evaluation = evaluate_walk_forward(
            data,
            recipe.model,
            train_bars=recipe.train_bars,
            test_bars=recipe.test_bars,
            embargo_bars=recipe.embargo_bars,
            min_rows=recipe.min_rows,
        )
        rows = train_rows(
            data,
            fit_bar - recipe.train_bars,
            fit_bar,
            embargo_bars=recipe.embargo_bars,
            min_rows=recipe.min_rows,
        )
    except (TrainingError, ValueError) as exc:
        raise TrainingError(f"{where}; {exc}") from exc
    classifier = fit(data, rows, recipe.model)
    metrics = _metrics(evaluation)
    metrics["train_rows"] = len(rows)
    metrics["train_up_share"] = float(data.y[rows].mean())
    return classifier, metrics, int(data.ts_ms[fit_bar])


def candles_sha256(candles: pd.DataFrame) -> str:
    """The sha256 of the candles' times and OHLCV values (independent of the file's format)."""
    digest = hashlib.sha256()
    digest.update(candles["ts_ms"].to_numpy(dtype=np.int64).tobytes())
    for column in ("open", "high", "low", "close", "volume"):
        digest.update(candles[column].to_numpy(dtype=np.float64).tobytes())
    return digest.hexdigest()


def _metrics(evaluation: Evaluation) -> dict[str, JsonValue]:
    calibration: list[JsonValue] = [
        {
            "low": b.low,
            "high": b.high,
            "count": b.count,
            "mean_predicted": _finite(b.mean_predicted),
            "fraction_up": _finite(b.fraction_up),
        }
        for b in evaluation.calibration
    ]
    return {
        "folds": evaluation.folds,
        "test_rows": evaluation.test_rows,
        "accuracy": evaluation.accuracy,
        "auc": _finite(evaluation.auc),
        "brier": evaluation.brier,
        "log_loss": evaluation.log_loss,
        "up_share_train": evaluation.up_share_train,
        "up_share_test": evaluation.up_share_test,
        "calibration": calibration,
    }


def _finite(value: float) -> float | None:
    # JSON has no NaN (PostgreSQL refuses it): an undefined score is stored as null
    return value if math.isfinite(value) else None
