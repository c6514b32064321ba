"""What ``tradebot optimize`` does; ``optimize.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports Optuna, the backtester and pandas (2.9 s of CPU before ``optimize --help`` answered
without them). ``tradebot walk-forward`` parses its ``--space`` here too.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tradebot.backtest.dataset import Chosen
from tradebot.cli.backtest_session import (
    Window,
    chosen_by,
    configure_backtest,
    refuse_unresearchable,
)
from tradebot.cli.optimize_tables import print_optimization
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


def start_optimize(
    config_path: Path | None,
    strategy: str | None,
    param: list[str] | None,
    space: list[str] | None,
    objective: list[str] | None,
    constraint: list[str] | None,
    trials: int,
    jobs: int,
    seed: int,
    round_size: int,
    sampler: str | None,
    population: int,
    study: str | None,
    storage: str | None,
    backend: str,
    ray_address: str | None,
    timeout: float | None,
    data: Path | None,
    symbol: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    trade_from: str | None,
    warmup_bars: int | None,
    report_dir: Path | None,
    report: bool,
) -> None:
    """The work of ``optimize.optimize``, which declares its options and help."""
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
