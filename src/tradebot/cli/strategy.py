"""``tradebot strategies`` and ``tradebot lookahead-check``: inspect the strategy engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tradebot.data.load import load_candles, sample_path
from tradebot.data.repair import Repair
from tradebot.domain.errors import ConfigError, DataError, StrategyError
from tradebot.strategy.lookahead import LookaheadFinding, LookaheadReport, check_lookahead
from tradebot.strategy.registry import (
    REQUIRED,
    STRATEGIES,
    create_strategy,
    parse_params,
    strategy_parameters,
)

DEFAULT_SAMPLE = "binance_BTC-USDT_1h_2024.csv.gz"


def register(app: typer.Typer) -> None:
    """Add the strategy commands to ``app``."""
    app.command("strategies")(strategies)
    app.command("lookahead-check")(lookahead_check)


def strategies() -> None:
    """List the built-in strategies with their parameters and defaults."""
    table = Table(title="Built-in strategies (or use path/to/file.py:ClassName)")
    for column in ("name", "class", "parameters (defaults)", "what it does"):
        table.add_column(column)
    for name, cls in sorted(STRATEGIES.items()):
        params = ", ".join(
            k if v is REQUIRED else f"{k}={v!r}" for k, v in strategy_parameters(cls).items()
        )
        summary = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "")
        table.add_row(name, cls.__name__, params, summary)
    Console(width=160).print(table)


def lookahead_check(
    strategy: Annotated[str, typer.Argument(help="A registered name or path/to/file.py:Class.")],
    data: Annotated[
        Path | None, typer.Option(help="Candle CSV(.gz)/Parquet; default: bundled BTC/USDT 1h.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter name=value.")
    ] = None,
    cuts: Annotated[int, typer.Option(min=1, help="Truncated histories to try.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed for where the cuts fall.")] = 0,
    repair: Annotated[
        Repair, typer.Option(help="Bad data: refuse (default), drop or ffill.")
    ] = "refuse",
) -> None:
    """Recompute a strategy on truncated histories; exit 1 if a value depends on the future."""
    console = Console(width=160)
    try:
        built = create_strategy(strategy, parse_params(param or []))
        candles = load_candles(data or sample_path(DEFAULT_SAMPLE), repair=repair)
        report = check_lookahead(built, candles, n_cuts=cuts, seed=seed)
    except (ConfigError, DataError, StrategyError) as e:
        console.print(f"[red]error:[/red] {e}", markup=True, highlight=False)
        raise typer.Exit(2) from e
    _print_report(console, report)
    if report.has_lookahead:
        raise typer.Exit(1)


def _print_report(console: Console, report: LookaheadReport) -> None:
    head = (
        f"{report.strategy}: {report.n_bars} bars, {len(report.cuts)} truncated histories,"
        f" {len(report.columns)} columns + signals compared"
    )
    console.print(head, highlight=False)
    if not report.has_lookahead:
        console.print("[green]no lookahead found[/green]")
        return
    table = Table(title="Values that changed when future bars were removed")
    for column in ("column", "first bar", "time (UTC)", "history cut at", "full", "truncated"):
        table.add_column(column)
    table.add_column("max |diff|", justify="right")
    table.add_column("cuts hit", justify="right")
    for f in report.findings:
        table.add_row(*_finding_row(f))
    console.print(table)
    console.print(f"[red]lookahead found in {len(report.findings)} column(s)[/red]")


def _finding_row(f: LookaheadFinding) -> list[str]:
    when = datetime.fromtimestamp(f.first_ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
    return [
        f.column,
        str(f.first_bar),
        when,
        f"{f.cut} bars",
        _fmt(f.full_value),
        _fmt(f.truncated_value),
        "" if f.max_abs_diff != f.max_abs_diff else f"{f.max_abs_diff:.6g}",
        str(f.n_cuts),
    ]


def _fmt(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.10g}"
