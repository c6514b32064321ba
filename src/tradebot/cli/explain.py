"""``tradebot explain <trade id|time>``: why the bot did what it did, from its database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption
from tradebot.cli.setup import configure, existing_repository
from tradebot.domain.errors import TradebotError
from tradebot.monitoring.explain import explain as explanation


def register(app: typer.Typer) -> None:
    """Add ``explain`` to ``app``."""
    app.command("explain")(explain)


def explain(
    what: Annotated[
        str,
        typer.Argument(
            help="A trade id (trade_id= in the trade log) or a UTC time like 2024-03-01T12:00."
        ),
    ],
    symbol: Annotated[
        str | None, typer.Option(help="With a time: only this symbol's decisions.")
    ] = None,
    config_path: ConfigOption = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file of the bot's state (default: config).")
    ] = None,
) -> None:
    """Print a decision: signal and reason, indicators, risk checks, action, orders, fills.

    With a trade id, every decision that placed an order of that trade; with a time, the
    decision of the bar open at that time. Reads only, so it works while the bot runs.
    """
    try:
        repo = existing_repository(configure(config_path, None, db))
        lines = explanation(what, repo, symbol)
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo("\n".join(lines))
