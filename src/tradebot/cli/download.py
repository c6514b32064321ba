"""``tradebot download``: fetch candle history from the configured venue into the candle store.

Exits 0 when every series was fetched (gaps the venue has are reported, not an error), 1 when
a series failed (unknown symbol or interval, venue down) or the arguments are bad, 130 when
interrupted.

The venue is the config's (paper: the local sandbox; live: Binance or its testnet), or the
sandbox at ``--url``. Run the same command again to resume; an interrupted run loses at most
one page.

The command is declared here; what it does is in ``download_session.py``, imported when
it runs, so that ``--help`` answers without importing ccxt and the candle store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.data import DEFAULT_DB, DbOption


def register(app: typer.Typer) -> None:
    """Add the ``download`` command to ``app``."""
    app.command("download")(download_command)


def download_command(
    symbols: Annotated[str, typer.Option(help="Comma-separated, e.g. BTC/USDT,ETH/USDT.")],
    timeframes: Annotated[str, typer.Option(help="Comma-separated, e.g. 1m,1h.")],
    since: Annotated[
        str | None,
        typer.Option(help="First candle (UTC date/time or epoch ms); omit to resume a stored one."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Stop before this time (exclusive); default: now.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config YAML; omit for the built-in default.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Download from the sandbox at this URL (the config is not read)."),
    ] = None,
) -> None:
    """Download closed candles into the store, resuming from the last stored one."""
    from tradebot.cli import download_session  # imported when it runs, not for --help

    download_session.start_download(
        symbols=symbols,
        timeframes=timeframes,
        since=since,
        until=until,
        db=db,
        config=config,
        url=url,
    )
