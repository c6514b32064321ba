"""What ``tradebot ml train | list | evaluate | promote`` do; ``ml.py`` declares them.

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports scikit-learn, LightGBM and pandas (2.7 s of CPU before ``ml --help`` answered
without them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from tradebot.cli.ml_tables import evaluation_lines, models_table, trained_lines
from tradebot.cli.setup import configure
from tradebot.data.frame import parse_time_ms
from tradebot.data.load import load_candles
from tradebot.domain.errors import TradebotError
from tradebot.ml.dataset import build_dataset
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.ml.recipe import Recipe
from tradebot.ml.registry import ModelRegistry
from tradebot.ml.training import evaluate_walk_forward


def start_train(
    data: Path,
    name: str,
    start: str | None,
    end: str | None,
    horizon: int,
    model: ModelKind,
    trees: int,
    seed: int,
    train_bars: int,
    test_bars: int,
    embargo: int,
    min_rows: int,
    config_path: Path | None,
    db: Path | None,
    models_dir: Path | None,
) -> None:
    """The work of ``ml.train``, which declares its options and help."""
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


def start_list(
    name: str | None,
    config_path: Path | None,
    db: Path | None,
    models_dir: Path | None,
) -> None:
    """The work of ``ml.list_models``, which declares its options and help."""
    try:
        with _registry(config_path, db, models_dir, create=False) as registry:
            models = registry.models(name)
    except TradebotError as err:
        _fail(err)
    if not models:
        typer.echo("no model registered" + (f" under {name!r}" if name else ""))
        return
    Console().print(models_table(models))


def start_promote(
    model_id: str,
    config_path: Path | None,
    db: Path | None,
    models_dir: Path | None,
) -> None:
    """The work of ``ml.promote``, which declares its options and help."""
    try:
        with _registry(config_path, db, models_dir, create=False) as registry:
            record = registry.promote(model_id, _now_ms())
            versions = registry.models(record.name)
    except TradebotError as err:
        _fail(err)
    typer.echo(f"promoted {record.model_id}: strategies with model_name {record.name} trade it")
    Console().print(models_table(versions))


def start_evaluate(
    data: Path,
    horizon: int,
    model: ModelKind,
    trees: int,
    train_bars: int,
    test_bars: int,
    embargo: int,
    purge: bool,
) -> None:
    """The work of ``ml.evaluate``, which declares its options and help."""
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
