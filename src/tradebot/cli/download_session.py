"""What ``tradebot download`` does; ``download.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports ccxt, the candle store and pandas (2.0 s of CPU before ``download --help`` answered
without them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from tradebot.config import load_config
from tradebot.data.download import PageWritten, SeriesPlan, SeriesResult, download
from tradebot.data.frame import parse_time_ms
from tradebot.data.store import CandleStore
from tradebot.domain.errors import ConfigError, DataError, ExchangeError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import from_config
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect, settings_from_config

_INTERRUPTED = 130  # the shell's code for Ctrl-C


class RichProgress:
    """One progress bar per (symbol, timeframe), advancing in time covered."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def series_started(self, plan: SeriesPlan) -> None:
        """Add the series' bar."""
        key = (plan.symbol, plan.timeframe)
        label = f"{plan.symbol} {plan.timeframe}"
        self._tasks[key] = self._progress.add_task(label, total=max(plan.total_ms, 1), rows=0)

    def page_written(self, page: PageWritten) -> None:
        """Move the series' bar to the page's last candle."""
        task = self._tasks[(page.symbol, page.timeframe)]
        rows = self._progress.tasks[task].fields["rows"] + page.new_rows
        self._progress.update(task, completed=page.done_ms, rows=rows)


def start_download(
    symbols: str,
    timeframes: str,
    since: str | None,
    until: str | None,
    db: str,
    config: Path | None,
    url: str | None,
) -> None:
    """The work of ``download.download_command``, which declares its options and help."""
    console = Console()
    try:
        names, frames = _split(symbols, "--symbols"), _split(timeframes, "--timeframes")
        since_ms = None if since is None else parse_time_ms(since)
        until_ms = None if until is None else parse_time_ms(until)
        if "://" not in db:
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(_run(console, config, url, db, names, frames, since_ms, until_ms))
    except KeyboardInterrupt:
        console.print("interrupted: the pages written are kept; run the same command to resume")
        raise typer.Exit(_INTERRUPTED) from None
    except (ConfigError, DataError, ExchangeError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    for result in results:
        console.print(result.describe(), highlight=False, markup=False)
    if any(result.error is not None for result in results):
        raise typer.Exit(1)


async def _run(
    console: Console,
    config_path: Path | None,
    url: str | None,
    db: str,
    symbols: Sequence[str],
    timeframes: Sequence[str],
    since_ms: int | None,
    until_ms: int | None,
) -> list[SeriesResult]:
    connector = _connect(config_path, url)
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[rows]:>9,} new"),
        TimeRemainingColumn(),
    )
    try:
        with CandleStore(db) as store, Progress(*columns, console=console) as progress:
            shown = RichProgress(progress)
            return await download(
                connector, store, symbols, timeframes, since_ms, until_ms, progress=shown
            )
    finally:
        await connector.close()


def _connect(config_path: Path | None, url: str | None) -> CcxtConnector:
    # --url: that sandbox with its own key; else the config's venue and credentials
    if url is not None:
        return connect(ConnectSettings(venue=Venue.SANDBOX, sandbox_url=url, websockets=False))
    config = load_config(config_path)
    if config.exchange.mode == "backtest":
        raise ConfigError(
            "exchange.mode is backtest, which has no venue to download from; use a config "
            "with mode paper (the sandbox, or pass --url) or live (Binance or its testnet)"
        )
    settings = settings_from_config(config, websockets=False)
    return connect(settings, from_config(config), public_only=True)


def _split(text: str, option: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError(f"{option} is empty; give a comma-separated list")
    return items
