"""``tradebot walk-forward``: optimise in sample, trade out of sample, judge the result.

The command is declared here; what it does is in ``walkforward_session.py``, imported when
it runs, so that ``--help`` answers without importing Optuna, the backtester and pandas.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, FixedParamOption, StrategyOption
from tradebot.research.window_kind import WindowKind


class SearchKind(StrEnum):
    """How each in-sample window is searched."""

    OPTUNA = "optuna"
    GRID = "grid"


def register(app: typer.Typer) -> None:
    """Add ``walk-forward`` to ``app``."""
    app.command("walk-forward")(walk_forward_command)


def walk_forward_command(
    config_path: ConfigOption = None,
    strategy: StrategyOption = None,
    param: FixedParamOption = None,
    search: Annotated[
        SearchKind,
        typer.Option(
            help="optuna: a study of --trials trials per window over the strategy's declared "
            "space (--space replaces a range); grid: every point of --grid."
        ),
    ] = SearchKind.OPTUNA,
    trials: Annotated[int, typer.Option(min=2, help="Trials of each study (optuna).")] = 40,
    space: Annotated[
        list[str] | None,
        typer.Option(help="optuna: search name=5:50, name=0.5:3.0, name=a,b,c (as optimize)."),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="grid: a parameter and its values, name=v1,v2,... (repeat it; default: the "
            "strategy's built-in grid, or one from its declared space)."
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Workers (optuna).")] = 1,
    train: Annotated[
        str, typer.Option(help="In-sample window: bars, or hours/days/weeks (720h, 90d, 12w).")
    ] = "90d",
    test: Annotated[str, typer.Option(help="Out-of-sample window, as --train.")] = "30d",
    window: Annotated[
        WindowKind, typer.Option(help="rolling (fixed length) or anchored (from the start).")
    ] = WindowKind.ROLLING,
    objective: Annotated[
        str,
        typer.Option(
            help="What the in-sample search maximises: sharpe, sortino, calmar, return, "
            "drawdown (minimised) or file.py:func, as tradebot optimize."
        ),
    ] = "sharpe",
    min_trades: Annotated[
        int, typer.Option(min=0, help="In sample, fewer trades than this never wins.")
    ] = 3,
    runs: Annotated[int, typer.Option(min=10, help="Monte Carlo and random-entry draws.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the studies and the Monte Carlo draws.")] = 0,
    data: Annotated[Path | None, typer.Option(help="Candle file (CSV, CSV.gz, Parquet).")] = None,
    symbol: Annotated[str | None, typer.Option(help="Market, e.g. BTC/USDT.")] = None,
    timeframe: Annotated[str | None, typer.Option(help="Candle timeframe, e.g. 1h.")] = None,
    start: Annotated[str | None, typer.Option(help="First bar, UTC date (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="End, UTC date (exclusive).")] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="Folder the report folder goes into (backtest.report_dir).")
    ] = None,
) -> None:
    """Walk forward: optimise each in-sample window, trade the next one, and say whether
    the result is an edge or luck (PBO, deflated Sharpe, random entries, Monte Carlo)."""
    from tradebot.cli import walkforward_session  # imported when it runs, not for --help

    walkforward_session.start_walk_forward(
        config_path=config_path,
        strategy=strategy,
        param=param,
        search=search,
        trials=trials,
        space=space,
        grid=grid,
        jobs=jobs,
        train=train,
        test=test,
        window=window,
        objective=objective,
        min_trades=min_trades,
        runs=runs,
        seed=seed,
        data=data,
        symbol=symbol,
        timeframe=timeframe,
        start=start,
        end=end,
        report_dir=report_dir,
    )
