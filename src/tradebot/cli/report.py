"""``tradebot report --db URL``: the report of a paper or live session, from its database.

The command is declared here; what it does is in ``report_session.py``, imported when
it runs, so that ``--help`` answers without importing the report, pandas and the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report)


def report(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="The bot's state: a SQLite file or a SQLAlchemy URL (default: config)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder to write into (default: a new folder in backtest.report_dir, "
            "<dir>/latest linking to it)."
        ),
    ] = None,
    config_path: ConfigOption = None,
    symbol: Annotated[
        str | None,
        typer.Option(help="One market to report (default: every market the bot decided)."),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="paper or live, for the title (default: exchange.mode).")
    ] = None,
) -> None:
    """Write the HTML report of a paper or live session: the backtest's report, metrics and
    files, computed from the orders, fills, trades, decisions and equity the bot saved.

    Reads only, so it works while the bot runs.
    """
    from tradebot.cli import report_session  # imported when it runs, not for --help

    report_session.start_report(db=db, out=out, config_path=config_path, symbol=symbol, mode=mode)
