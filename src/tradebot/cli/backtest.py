"""``tradebot backtest``: run the engine over history, print, report.

The command is declared here; what it does is in ``backtest_session.py``, imported when it
runs, so that ``--help`` answers without importing the backtester, pandas and the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, StrategyOption


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to ``app``."""
    app.command("backtest")(backtest)


def backtest(
    config_path: ConfigOption = None,
    strategy: StrategyOption = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter k=v.")
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="Market, e.g. BTC/USDT.")] = None,
    timeframe: Annotated[str | None, typer.Option(help="Candle timeframe, e.g. 1h.")] = None,
    start: Annotated[str | None, typer.Option(help="First bar, UTC date (inclusive).")] = None,
    end: Annotated[str | None, typer.Option(help="End, UTC date (exclusive).")] = None,
    trade_from: Annotated[
        str | None,
        typer.Option(
            help="Trade from this UTC date or time (e.g. 2024-03-01T00:00); earlier bars only "
            "warm the indicators up."
        ),
    ] = None,
    warmup_bars: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Bars that only warm the indicators up before trading starts (with "
            "--trade-from: the data begins that many bars before it).",
        ),
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            help="Candle file (CSV, CSV.gz or Parquet). Repeat it, or give a folder, to backtest "
            "several markets on one account (the market comes from each file's name)."
        ),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder each run's report folder goes into (default backtest.report_dir); "
            "<dir>/latest is the newest."
        ),
    ] = None,
    repair: Annotated[
        str | None, typer.Option(help="Bad data: refuse (default), drop or ffill.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Read candles from this candle store (SQLite file or URL)."),
    ] = None,
    every_bar: Annotated[
        bool, typer.Option(help="Visit every bar (slower; same trades, a check).")
    ] = False,
) -> None:
    """Backtest a strategy on historical candles and write an HTML report."""
    from tradebot.cli import backtest_session  # imported when it runs, not for --help

    backtest_session.start_backtest(
        config_path,
        strategy,
        param,
        symbol,
        timeframe,
        backtest_session.Window(start, end, trade_from, warmup_bars),
        data,
        report_dir,
        repair,
        store,
        every_bar,
    )
