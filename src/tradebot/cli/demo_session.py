"""What ``tradebot demo`` does; ``demo.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports the backtester, the sandbox and the exchange (2.7 s of CPU before ``demo --help``
answered without them).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from tradebot.backtest.dataset import bundled_sample
from tradebot.cli.backtest_session import print_run, run_with_progress
from tradebot.config import Config, load_config
from tradebot.domain.errors import TradebotError
from tradebot.parity import PaperComparison, paper_vs_backtest


def start_demo(
    report_dir: Path,
    paper_bars: int,
) -> None:
    """The work of ``demo.demo``, which declares its options and help."""
    console = Console()
    config = load_config(None)
    try:
        console.rule("[bold]1. Backtest: the default strategy on the bundled BTC/USDT 1h 2024")
        run = run_with_progress(config, report_dir, False, console)
        print_run(run, console)
        if paper_bars:
            console.rule("[bold]2. Paper trading: the same engine against the sandbox exchange")
            comparison = _paper(config, paper_bars, console)
            console.print(comparison_table(comparison))
    except TradebotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _paper(config: Config, bars: int, console: Console) -> PaperComparison:
    columns = (
        TextColumn("[bold]paper"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} bars through ccxt → sandbox"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("paper", total=bars)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        sample = Path(str(bundled_sample(config.trading.symbol, config.trading.timeframe)))
        return asyncio.run(paper_vs_backtest(config, sample, bars=bars, progress=on_progress))


def comparison_table(c: PaperComparison) -> Table:
    """Paper session beside the backtest of the same bars."""
    table = Table(title=f"Paper trading vs backtest over the same {c.bars:,} bars")
    table.add_column("")
    table.add_column("Paper (ccxt → sandbox)", justify="right")
    table.add_column("Backtest", justify="right")
    table.add_row("Closed trades", str(len(c.paper_trades)), str(len(c.backtest_trades)))
    table.add_row("Equity at the end", f"{c.paper_equity:,.2f}", f"{c.backtest_equity:,.2f}")
    pnl_p = sum((t.pnl for t in c.paper_trades), start=0)
    pnl_b = sum((t.pnl for t in c.backtest_trades), start=0)
    table.add_row("PnL of closed trades", f"{pnl_p:,.2f}", f"{pnl_b:,.2f}")
    table.add_row("Orders sent / fills", f"{c.orders_sent} / {c.fills}", "")
    verdict = "[green]yes[/green]" if c.identical else f"[red]NO[/red] ({c.differences[0]})"
    table.add_row("Same trades (times, prices, amounts, fees)", verdict, "")
    return table
