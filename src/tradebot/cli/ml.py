"""``tradebot ml train | list | evaluate | promote``: models scored purged, kept, promoted.

Wiring only: ``tradebot.ml`` builds the datasets, purges, fits and keeps the registry; this
parses options, calls in and prints tables (``cli/ml_tables.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from tradebot.cli.ml_tables import evaluation_lines, models_table, trained_lines
from tradebot.cli.options import ConfigOption, DbOption
from tradebot.cli.setup import configure
from tradebot.data.frame import parse_time_ms
from tradebot.data.load import load_candles
from tradebot.domain.errors import TradebotError
from tradebot.ml.dataset import build_dataset
from tradebot.ml.labels import LabelSpec
from tradebot.ml.models import ModelKind, ModelSpec
from tradebot.ml.recipe import Recipe
from tradebot.ml.registry import ModelRegistry
from tradebot.ml.training import evaluate_walk_forward

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
    try:
        recipe = Recipe(
            label=LabelSpec(horizon_bars=horizon),
            model=ModelSpec(model, trees=trees, seed=seed),
            train_bars=train_bars,
            test_bars=test_bars,
            embargo_bars=embargo,
            min_rows=min_rows,
        )
        start_ms, end_ms = _bound("--start", start), _bound("--end", end)
        candles = load_candles(data, start_ms, end_ms)
        with _registry(config_path, db, models_dir, create=True) as registry:
            record = registry.train(name, candles, _source(data, start, end), recipe, _now_ms())
    except (TradebotError, ValueError) as err:
        _fail(err)
    console = Console()
    for line in trained_lines(record, registry.models_dir):
        console.print(line)


def list_models(
    name: Annotated[str | None, typer.Option(help="Only the versions of this name.")] = None,
    config_path: ConfigOption = None,
    db: DbOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """List the registered models: data, trained-until time, scores and status."""
    try:
        with _registry(config_path, db, models_dir, create=False) as registry:
            models = registry.models(name)
    except TradebotError as err:
        _fail(err)
    if not models:
        typer.echo("no model registered" + (f" under {name!r}" if name else ""))
        return
    Console().print(models_table(models))


def promote(
    model_id: Annotated[str, typer.Argument(help="The model to promote, e.g. btc-2.")],
    config_path: ConfigOption = None,
    db: DbOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Promote MODEL_ID: strategies naming its model trade it (its file is checked first)."""
    try:
        with _registry(config_path, db, models_dir, create=False) as registry:
            record = registry.promote(model_id, _now_ms())
            versions = registry.models(record.name)
    except TradebotError as err:
        _fail(err)
    typer.echo(f"promoted {record.model_id}: strategies with model_name {record.name} trade it")
    Console().print(models_table(versions))


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
    recipe = Recipe(label=LabelSpec(horizon_bars=horizon), model=ModelSpec(model, trees=trees))
    try:
        candles = load_candles(data)
        dataset = build_dataset(candles, recipe.features, recipe.label)
        result = evaluate_walk_forward(
            dataset,
            recipe.model,
            train_bars=train_bars,
            test_bars=test_bars,
            embargo_bars=embargo,
            purge=purge,
        )
    except (TradebotError, ValueError) as err:
        _fail(err)
    console = Console()
    for line in evaluation_lines(result):
        console.print(line)


@contextmanager
def _registry(
    config_path: Path | None, db: Path | None, models_dir: Path | None, *, create: bool
) -> Iterator[ModelRegistry]:
    """The registry of the configured database, closed when the command is done with it."""
    config = configure(config_path, None, db)
    where = config.database.path if config.database.url is None else config.database.sqlalchemy_url
    registry = ModelRegistry.open(where, models_dir, create=create)
    try:
        yield registry
    finally:
        registry.close()


def _bound(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_time_ms(text)
    except ValueError:
        msg = f"{option} {text!r}: use a date like 2024-01-01, an ISO time or epoch ms"
        raise ValueError(msg) from None


def _source(data: Path, start: str | None, end: str | None) -> str:
    bounds = "".join(
        f" {flag} {text}" for flag, text in (("--start", start), ("--end", end)) if text
    )
    return f"{data.name}{bounds}"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _fail(err: Exception) -> NoReturn:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(2) from None
