"""``tradebot ml evaluate``: how a model would have predicted a data file, walk-forward.

Wiring only: ``tradebot.ml`` builds the dataset, purges and fits; this prints its scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tradebot.data.load import load_candles
from tradebot.domain.errors import TradebotError
from tradebot.ml.dataset import build_dataset
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.models import ModelKind, ModelSpec
from tradebot.ml.training import Evaluation, evaluate_walk_forward


def register(app: typer.Typer) -> None:
    """Add the ``ml`` group (``ml evaluate``) to ``app``."""
    group = typer.Typer(help="Machine-learning models: evaluate them walk-forward, purged.")
    group.command("evaluate")(evaluate)
    app.add_typer(group, name="ml")


def evaluate(
    data: Annotated[Path, typer.Option("--data", help="A candle file (csv or csv.gz).")],
    horizon: Annotated[int, typer.Option(help="Label: up or down after this many bars.")] = 12,
    model: Annotated[ModelKind, typer.Option(help="The classifier.")] = ModelKind.RANDOM_FOREST,
    trees: Annotated[int, typer.Option(help="Trees of a forest or boosting.")] = 100,
    train_bars: Annotated[int, typer.Option(help="Bars in each training window.")] = 500,
    test_bars: Annotated[int, typer.Option(help="Bars each model predicts.")] = 24,
    embargo: Annotated[int, typer.Option(help="Bars dropped after the purge.")] = 0,
    purge: Annotated[
        bool, typer.Option(help="--no-purge keeps labels that resolve after the fit: a leak.")
    ] = True,
) -> None:
    """Fit at the start of each walk-forward window and score the predictions out of sample."""
    try:
        candles = load_candles(data)
        dataset = build_dataset(candles, FeatureSpec(), LabelSpec(horizon_bars=horizon))
        result = evaluate_walk_forward(
            dataset,
            ModelSpec(model, trees=trees),
            train_bars=train_bars,
            test_bars=test_bars,
            embargo_bars=embargo,
            purge=purge,
        )
    except (TradebotError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    _print(result)


def _print(result: Evaluation) -> None:
    console = Console()
    console.print(
        f"{result.folds} folds, {result.train_rows} training rows over all folds,"
        f" {result.test_rows} test rows;"
        f" up share train {result.up_share_train:.3f}, test {result.up_share_test:.3f}"
    )
    console.print(f"accuracy {result.accuracy:.3f}  AUC {result.auc:.3f}  Brier {result.brier:.4f}")
    table = Table(title="calibration")
    for column in ("predicted", "count", "mean predicted", "share up"):
        table.add_column(column, justify="right")
    for b in result.calibration:
        table.add_row(
            f"{b.low:.1f}-{b.high:.1f}",
            str(b.count),
            f"{b.mean_predicted:.3f}",
            f"{b.fraction_up:.3f}",
        )
    console.print(table)
