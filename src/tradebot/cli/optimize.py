"""``tradebot optimize``: search a strategy's parameters with Optuna on the real backtester.

The command is declared here; what it does is in ``optimize_session.py``, imported when it
runs, so that ``--help`` answers without importing Optuna, the backtester and pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, FixedParamOption, StrategyOption


def register(app: typer.Typer) -> None:
    """Add ``optimize`` to ``app``."""
    app.command("optimize")(optimize)


def optimize(
    config_path: ConfigOption = None,
    strategy: StrategyOption = None,
    param: FixedParamOption = None,
    space: Annotated[
        list[str] | None,
        typer.Option(
            help="Search a parameter over a range: name=5:50, name=0.5:3.0, name=1e-3:1:log, "
            "name=10:200:10 (step) or name=a,b,c (choice); replaces the declared range."
        ),
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(
            help="sharpe (default), sortino, calmar, return, drawdown, or file.py:func; "
            "=min/=max after it sets the direction. Repeat for several (NSGA-II)."
        ),
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option(help="A bound on a metric, e.g. total_trades>=20, max_drawdown_pct<=30."),
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Trials the study holds in all.")] = 100,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Workers.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed; trial n's sampler uses seed + n.")] = 0,
    round_size: Annotated[
        int, typer.Option(min=1, help="Trials proposed together before any is scored.")
    ] = 8,
    sampler: Annotated[
        str | None, typer.Option(help="tpe, nsga2 or random (default: tpe; nsga2 for several).")
    ] = None,
    population: Annotated[int, typer.Option(min=2, help="NSGA-II population size.")] = 24,
    study: Annotated[
        str | None, typer.Option(help="Study name (default <strategy>-<BASE-QUOTE>-<tf>).")
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Where the study is kept: a SQLAlchemy URL or a .journal file (default: "
            "beside the project database)."
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help="local (processes) or ray.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start Ray locally).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Stop after the round that passes this (s).")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Candle file (CSV, CSV.gz, Parquet).")] = None,
    symbol: Annotated[str | None, typer.Option(help="Market, e.g. BTC/USDT.")] = None,
    timeframe: Annotated[str | None, typer.Option(help="Candle timeframe, e.g. 1h.")] = None,
    start: Annotated[str | None, typer.Option(help="First bar, UTC date (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="End, UTC date (exclusive).")] = None,
    trade_from: Annotated[
        str | None, typer.Option(help="Trade from this UTC time; earlier bars warm up.")
    ] = None,
    warmup_bars: Annotated[int | None, typer.Option(min=0, help="Warm-up bars.")] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="Folder the report folder goes into (backtest.report_dir).")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write the HTML report.")] = True,
) -> None:
    """Optimise a strategy's parameters (Optuna) on the same engine that trades live."""
    from tradebot.cli import optimize_session  # imported when it runs, not for --help

    optimize_session.start_optimize(
        config_path=config_path,
        strategy=strategy,
        param=param,
        space=space,
        objective=objective,
        constraint=constraint,
        trials=trials,
        jobs=jobs,
        seed=seed,
        round_size=round_size,
        sampler=sampler,
        population=population,
        study=study,
        storage=storage,
        backend=backend,
        ray_address=ray_address,
        timeout=timeout,
        data=data,
        symbol=symbol,
        timeframe=timeframe,
        start=start,
        end=end,
        trade_from=trade_from,
        warmup_bars=warmup_bars,
        report_dir=report_dir,
        report=report,
    )
