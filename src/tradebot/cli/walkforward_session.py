"""What ``tradebot walk-forward`` does; ``walkforward.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports Optuna, the backtester and pandas (3.0 s of CPU before ``walk-forward --help``
answered without them).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from tradebot.backtest.dataset import Chosen, load_backtest_data
from tradebot.backtest.report.folders import link_latest, new_run_folder
from tradebot.cli.backtest_session import (
    Window,
    chosen_by,
    configure_backtest,
    refuse_unresearchable,
)
from tradebot.cli.optimize_session import parse_space
from tradebot.cli.walkforward import SearchKind
from tradebot.config import Config
from tradebot.data.frame import fmt_ts
from tradebot.domain.decisions import MetadataValue
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.domain.market import timeframe_to_ms
from tradebot.research.assessment import Assessment, Search, assess
from tradebot.research.grid import GridSearch, default_grid
from tradebot.research.output import write_assessment
from tradebot.research.splits import Fold, walk_forward_folds
from tradebot.research.study_search import StudySearch
from tradebot.research.verdict import findings, verdict
from tradebot.research.walkforward import FoldResult
from tradebot.research.window_kind import WindowKind
from tradebot.strategy.registry import parse_params, resolve_strategy
from tradebot.strategy.space import space_for

_SPAN = re.compile(r"^(\d+)([hdw]?)$")
_UNIT_MS = {"h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def start_walk_forward(
    config_path: Path | None,
    strategy: str | None,
    param: list[str] | None,
    search: SearchKind,
    trials: int,
    space: list[str] | None,
    grid: list[str] | None,
    jobs: int,
    train: str,
    test: str,
    window: WindowKind,
    objective: str,
    min_trades: int,
    runs: int,
    seed: int,
    data: Path | None,
    symbol: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    report_dir: Path | None,
) -> None:
    """The work of ``walkforward.walk_forward_command``, which declares its options and help."""
    console = Console()
    try:
        config = configure_backtest(
            config_path, strategy, param, symbol, timeframe, Window(start, end), data, None
        )
        refuse_unresearchable(config, "walk-forward")
        chosen = Chosen(
            chosen_by("symbol", symbol, config_path, config),
            chosen_by("timeframe", timeframe, config_path, config),
        )
        loaded = load_backtest_data(config, None, chosen)
        config, candles = loaded.config, loaded.candles
        bar_ms = timeframe_to_ms(config.trading.timeframe)
        folds = walk_forward_folds(
            len(candles), _bars(train, bar_ms, "--train"), _bars(test, bar_ms, "--test"), window
        )
        fixed = {k: _value(v) for k, v in config.strategy.params.items()}
        searcher: Search
        if search is SearchKind.OPTUNA:
            cls = resolve_strategy(config.strategy.name)
            dims = space_for(cls, list(fixed), parse_space(space or []))
            searcher = StudySearch(config, dims, objective, trials, min_trades, seed, jobs, fixed)
        else:
            chosen_grid = _grid(grid) if grid else default_grid(config.strategy.name, list(fixed))
            searcher = GridSearch(config, chosen_grid, objective, min_trades, fixed)
        for note in loaded.notes:
            console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
        result = _run(config, candles, folds, searcher, runs, seed, console)
        root = report_dir or config.backtest.report_dir
        folder = new_run_folder(
            root,
            f"walkforward-{config.strategy.name}",
            config.trading.symbol,
            config.trading.timeframe,
        )
        title = (
            f"Walk-forward: {config.strategy.name} on {config.trading.symbol} "
            f"{config.trading.timeframe}, {len(folds)} folds, {search.value} search"
        )
        html = write_assessment(result, folder, title)
        link_latest(root, folder)
    except (TradebotError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    _print(result, loaded.source, console, set(fixed))
    console.print(f"report: [bold]{html}[/bold]")
    console.print(f"out-of-sample backtest report, folds, trials, summary: {folder}")


def _bars(text: str, bar_ms: int, option: str) -> int:
    match = _SPAN.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        msg = f"{option} {text!r}: give a number of bars or of hours, days or weeks (90d)"
        raise ConfigError(msg)
    count, unit = int(match.group(1)), match.group(2)
    if not unit:
        return count
    bars = count * _UNIT_MS[unit] // bar_ms
    if bars == 0:
        msg = f"{option} {text!r} is shorter than one bar"
        raise ConfigError(msg)
    return bars


def _grid(items: list[str]) -> dict[str, list[MetadataValue]]:
    grid: dict[str, list[MetadataValue]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        texts = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not texts:
            msg = f"--grid {item!r} must look like name=v1,v2,... e.g. fast_period=8,12,16"
            raise ConfigError(msg)
        grid[name.strip()] = [_value(parse_params([f"v={t}"])["v"]) for t in texts]
    return grid


def _value(value: object) -> MetadataValue:
    return value if isinstance(value, bool | int | float | str) else str(value)


def _run(
    config: Config,
    candles: pd.DataFrame,
    folds: list[Fold],
    search: Search,
    runs: int,
    seed: int,
    console: Console,
) -> Assessment:
    columns = (TextColumn("[bold]walk-forward"), BarColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"fold 1/{len(folds)}", total=len(folds) + 1)

        def on_fold(done: FoldResult) -> None:
            n = done.fold.number + 1
            text = f"fold {n + 1}/{len(folds)}" if n < len(folds) else "the full-period grid"
            progress.update(task, completed=n, description=text)

        return assess(config, candles, folds, search, runs=runs, seed=seed, on_fold=on_fold)


def _print(a: Assessment, source: str, console: Console, fixed: set[str]) -> None:
    wf = a.walk_forward
    ts = wf.out_of_sample.ts_ms
    names = [n for n in wf.folds[0].params if n not in fixed]
    table = Table(title=f"walk-forward on {Path(source).name}: {len(wf.folds)} folds")
    table.add_column("fold", justify="right")
    table.add_column("OOS from")
    table.add_column("/".join(names))
    for name in ("IS Sharpe", "OOS Sharpe", "OOS return", "trades", "WFE"):
        table.add_column(name, justify="right")
    first = 0
    for f in wf.folds:
        oos = f.out_of_sample.metrics
        table.add_row(
            str(f.fold.number + 1),
            fmt_ts(int(ts[first]))[:10],
            "/".join(_short(f.params.get(n)) for n in names),
            _num(f.in_sample.sharpe_ratio),
            _num(oos.sharpe_ratio),
            f"{oos.total_return_pct:+.2f} %",
            str(oos.total_trades),
            _num(f.efficiency),
        )
        first += f.fold.test_bars
    console.print(table)
    for line in findings(a):
        console.print(f"- {line}", highlight=False)
    console.print(f"[bold]{verdict(a)}[/bold]", highlight=False)


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
