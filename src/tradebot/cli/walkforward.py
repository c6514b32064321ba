"""``tradebot walk-forward``: optimise in sample, trade out of sample, judge the result."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from tradebot.backtest.dataset import Chosen, load_backtest_data
from tradebot.backtest.report.folders import link_latest, new_run_folder
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.frame import fmt_ts
from tradebot.domain.decisions import MetadataValue
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.domain.market import timeframe_to_ms
from tradebot.research.assessment import Assessment, assess
from tradebot.research.evaluation import Objective
from tradebot.research.grid import GridSearch, default_grid
from tradebot.research.output import write_assessment
from tradebot.research.splits import Fold, WindowKind, walk_forward_folds
from tradebot.research.verdict import findings, verdict
from tradebot.research.walkforward import FoldResult
from tradebot.strategy.registry import parse_params

_SPAN = re.compile(r"^(\d+)([hdw]?)$")
_UNIT_MS = {"h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def register(app: typer.Typer) -> None:
    """Add ``walk-forward`` to ``app``."""
    app.command("walk-forward")(walk_forward_command)


def walk_forward_command(
    config_path: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config YAML (default: built-in).")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="Registered name or path/to/file.py:ClassName.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Hold a parameter fixed, k=v (not searched)."),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="A searched parameter and its values, name=v1,v2,... (repeat it; default: "
            "the strategy's built-in grid)."
        ),
    ] = None,
    train: Annotated[
        str, typer.Option(help="In-sample window: bars, or hours/days/weeks (720h, 90d, 12w).")
    ] = "90d",
    test: Annotated[str, typer.Option(help="Out-of-sample window, as --train.")] = "30d",
    window: Annotated[
        WindowKind, typer.Option(help="rolling (fixed length) or anchored (from the start).")
    ] = WindowKind.ROLLING,
    objective: Annotated[
        Objective, typer.Option(help="What the in-sample search maximises.")
    ] = Objective.SHARPE,
    min_trades: Annotated[
        int, typer.Option(min=0, help="In sample, fewer trades than this never wins.")
    ] = 3,
    runs: Annotated[int, typer.Option(min=10, help="Monte Carlo and random-entry draws.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo draws.")] = 0,
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
    console = Console()
    try:
        config = _configure(config_path, strategy, param, symbol, timeframe, start, end, data)
        if len(config.trading.all_symbols) > 1:
            raise ConfigError(
                f"walk-forward runs one market; trading.symbols lists "
                f"{', '.join(config.trading.all_symbols)}: give --symbol or --data"
            )
        chosen = Chosen("--symbol" if symbol else None, "--timeframe" if timeframe else None)
        loaded = load_backtest_data(config, None, chosen)
        config, candles = loaded.config, loaded.candles
        bar_ms = timeframe_to_ms(config.trading.timeframe)
        folds = walk_forward_folds(
            len(candles), _bars(train, bar_ms, "--train"), _bars(test, bar_ms, "--test"), window
        )
        search = GridSearch(
            config,
            _grid(grid) if grid else default_grid(config.strategy.name),
            objective,
            min_trades,
            {k: _value(v) for k, v in parse_params(param or []).items()},
        )
        for note in loaded.notes:
            console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
        result = _run(config, candles, folds, search, runs, seed, console)
        folder = new_run_folder(
            report_dir or config.backtest.report_dir,
            f"walkforward-{config.strategy.name}",
            config.trading.symbol,
            config.trading.timeframe,
        )
        title = (
            f"Walk-forward: {config.strategy.name} on {config.trading.symbol} "
            f"{config.trading.timeframe}, {len(folds)} folds"
        )
        html = write_assessment(result, folder, title)
        link_latest(report_dir or config.backtest.report_dir, folder)
    except (TradebotError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    _print(result, loaded.source, console)
    console.print(f"report: [bold]{html}[/bold]")
    console.print(f"out-of-sample backtest report, folds, trials, summary: {folder}")


def _configure(
    config_path: Path | None,
    strategy: str | None,
    param: list[str] | None,
    symbol: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    data: Path | None,
) -> Config:
    config = load_config(config_path)
    options: dict[str, object] = {
        "strategy.name": strategy,
        "trading.symbol": symbol,
        "trading.timeframe": timeframe,
        "backtest.start": start,
        "backtest.end": end,
        "backtest.data": str(data) if data else None,
    }
    updates = {k: v for k, v in options.items() if v is not None}
    if strategy is not None or param:
        updates["strategy.params"] = parse_params(param or [])
    return with_overrides(config, updates, "command line") if updates else config


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
    search: GridSearch,
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


def _print(a: Assessment, source: str, console: Console) -> None:
    wf = a.walk_forward
    ts = wf.out_of_sample.ts_ms
    names = list(wf.folds[0].params)
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
            "/".join(str(f.params.get(n)) for n in names),
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


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
