"""``tradebot optimize``: search a strategy's parameters with Optuna on the real backtester."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tradebot.backtest.dataset import Chosen
from tradebot.cli.backtest import Window, chosen_by, configure_backtest, refuse_unresearchable
from tradebot.cli.optimize_tables import print_optimization
from tradebot.cli.options import ConfigOption, FixedParamOption, StrategyOption
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.research.optimize import SamplerName, StudyPlan, Trial
from tradebot.research.report import write_optimize_report
from tradebot.research.session import (
    BackendName,
    OptimizeRequest,
    OptimizeRun,
    default_study_name,
    run_optimization,
)
from tradebot.strategy.space import Dimension, parse_dimension


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
    console = Console()
    try:
        window = Window(start, end, trade_from, warmup_bars)
        config = configure_backtest(
            config_path, strategy, param, symbol, timeframe, window, data, None
        )
        refuse_unresearchable(config, "optimize")
        request = OptimizeRequest(
            config=config,
            plan=StudyPlan(
                name=study or default_study_name(config),
                n_trials=trials,
                seed=seed,
                round_size=round_size,
                sampler=_sampler(sampler),
                population=population,
                timeout_s=timeout,
            ),
            objectives=tuple(objective or ["sharpe"]),
            constraints=tuple(constraint or []),
            space=parse_space(space or []),
            workers=jobs,
            backend=_backend(backend),
            ray_address=ray_address,
            storage=storage,
            chosen=Chosen(
                chosen_by("symbol", symbol, config_path, config),
                chosen_by("timeframe", timeframe, config_path, config),
            ),
        )
        run = _run_with_progress(request, console)
        root = report_dir or config.backtest.report_dir
        html = write_optimize_report(run, root).html if report else None
    except KeyboardInterrupt:
        console.print("[yellow]stopped[/yellow]: run the same command again to resume the study")
        raise typer.Exit(130) from None
    except TradebotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    print_optimization(run, console, html)


def _run_with_progress(request: OptimizeRequest, console: Console) -> OptimizeRun:
    columns = (
        TextColumn("[bold]optimize"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    # No refresh thread (auto_refresh=False): local workers are forked, and a fork while
    # another thread holds a lock can leave the child waiting on it forever.
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
        task = progress.add_task("optimize", total=request.plan.n_trials)

        def on_trial(trial: Trial, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, refresh=True)

        return run_optimization(request, on_trial)


def parse_space(items: list[str]) -> dict[str, Dimension]:
    """``--space name=RANGE`` items as dimensions (``tradebot walk-forward`` takes them too)."""
    out: dict[str, Dimension] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--space {item!r} must look like name=low:high, e.g. period=5:50")
        out[name.strip()] = parse_dimension(text.strip())
    return out


def _sampler(name: str | None) -> SamplerName | None:
    if name is None:
        return None
    if name not in ("tpe", "nsga2", "random"):
        raise ConfigError(f"--sampler {name!r}: use tpe, nsga2 or random")
    return "tpe" if name == "tpe" else "nsga2" if name == "nsga2" else "random"


def _backend(name: str) -> BackendName:
    if name not in ("local", "ray"):
        raise ConfigError(f"--backend {name!r}: use local or ray")
    return "local" if name == "local" else "ray"
