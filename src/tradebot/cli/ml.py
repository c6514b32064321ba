"""``tradebot ml train | list | evaluate | promote``: models scored purged, kept, promoted.

Wiring only: ``tradebot.ml`` builds the datasets, purges, fits and keeps the registry; this
parses options, calls in and prints tables (``cli/ml_tables.py``).

The commands are declared here; what they do is in ``ml_session.py``, imported when one
runs, so that ``--help`` answers without importing scikit-learn, LightGBM and pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, DbOption
from tradebot.ml.model_kind import ModelKind

DataOption = Annotated[Path, typer.Option("--data", help="A candle file (csv, csv.gz, parquet).")]
HorizonOption = Annotated[int, typer.Option(min=1, help="Label: up or down after this many bars.")]
ModelOption = Annotated[ModelKind, typer.Option(help="The classifier.")]
TreesOption = Annotated[int, typer.Option(min=1, help="Trees of a forest or boosting.")]
TrainBarsOption = Annotated[int, typer.Option(min=1, help="Bars in each training window.")]
TestBarsOption = Annotated[int, typer.Option(min=1, help="Bars each walk-forward model predicts.")]
EmbargoOption = Annotated[int, typer.Option(min=0, help="Bars dropped after the purge.")]
MinRowsOption = Annotated[int, typer.Option(min=1, help="Fewest rows a fit may learn from.")]
ModelsDirOption = Annotated[
    Path | None,
    typer.Option(help="Folder of the models' files (default: models/ beside the database)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``ml`` group (train, list, evaluate, promote) to ``app``."""
    group = typer.Typer(
        help="Machine-learning models: evaluate walk-forward and purged, train, list, promote."
    )
    group.command("train")(train)
    group.command("list")(list_models)
    group.command("evaluate")(evaluate)
    group.command("promote")(promote)
    app.add_typer(group, name="ml")


def train(
    data: DataOption,
    name: Annotated[str, typer.Option(help="The model's name; versions are NAME-1, NAME-2...")],
    start: Annotated[str | None, typer.Option(help="First bar, e.g. 2024-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Bars before this time only.")] = None,
    horizon: HorizonOption = 12,
    model: ModelOption = ModelKind.RANDOM_FOREST,
    trees: TreesOption = 100,
    seed: Annotated[int, typer.Option(help="Seed of the model's randomness.")] = 0,
    train_bars: TrainBarsOption = 500,
    test_bars: TestBarsOption = 24,
    embargo: EmbargoOption = 0,
    min_rows: MinRowsOption = 50,
    config_path: ConfigOption = None,
    db: DbOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Score a model walk-forward on a candle file, fit it on the last bars, register it.

    The model is registered as a candidate; `tradebot ml promote MODEL_ID` lets strategies
    trade it.
    """
    from tradebot.cli import ml_session  # imported when it runs, not for --help

    ml_session.start_train(
        data=data,
        name=name,
        start=start,
        end=end,
        horizon=horizon,
        model=model,
        trees=trees,
        seed=seed,
        train_bars=train_bars,
        test_bars=test_bars,
        embargo=embargo,
        min_rows=min_rows,
        config_path=config_path,
        db=db,
        models_dir=models_dir,
    )


def list_models(
    name: Annotated[str | None, typer.Option(help="Only the versions of this name.")] = None,
    config_path: ConfigOption = None,
    db: DbOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """List the registered models: data, trained-until time, scores and status."""
    from tradebot.cli import ml_session  # imported when it runs, not for --help

    ml_session.start_list(name=name, config_path=config_path, db=db, models_dir=models_dir)


def promote(
    model_id: Annotated[str, typer.Argument(help="The model to promote, e.g. btc-2.")],
    config_path: ConfigOption = None,
    db: DbOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Promote MODEL_ID: strategies naming its model trade it (its file is checked first)."""
    from tradebot.cli import ml_session  # imported when it runs, not for --help

    ml_session.start_promote(
        model_id=model_id, config_path=config_path, db=db, models_dir=models_dir
    )


def evaluate(
    data: DataOption,
    horizon: HorizonOption = 12,
    model: ModelOption = ModelKind.RANDOM_FOREST,
    trees: TreesOption = 100,
    train_bars: TrainBarsOption = 500,
    test_bars: TestBarsOption = 24,
    embargo: EmbargoOption = 0,
    purge: Annotated[
        bool, typer.Option(help="--no-purge keeps labels that resolve after the fit: a leak.")
    ] = True,
) -> None:
    """Fit at the start of each walk-forward window and score the predictions out of sample."""
    from tradebot.cli import ml_session  # imported when it runs, not for --help

    ml_session.start_evaluate(
        data=data,
        horizon=horizon,
        model=model,
        trees=trees,
        train_bars=train_bars,
        test_bars=test_bars,
        embargo=embargo,
        purge=purge,
    )
