"""``tradebot explain <trade id|time>``: why the bot did what it did, from its database.

The command is declared here; what it does is in ``explain_session.py``, imported when
it runs, so that ``--help`` answers without importing the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption


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
    from tradebot.cli import explain_session  # imported when it runs, not for --help

    explain_session.start_explain(what=what, symbol=symbol, config_path=config_path, db=db)
