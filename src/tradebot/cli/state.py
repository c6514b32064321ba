"""``tradebot state rebuild``: rebuild a lost database from what the exchange knows.

Wiring only: the config picks the venue (live keys, or a sandbox the bot does not embed),
the instance lock keeps a running bot off the database, ``orchestrator.rebuild`` does the
work. Nothing is sent to the exchange.

The command is declared here; what it does is in ``state_session.py``, imported when it
runs, so that ``--help`` answers without importing the exchange, the engine and the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption


def register(app: typer.Typer) -> None:
    """Add the ``state`` group (``state rebuild``) to ``app``."""
    group = typer.Typer(
        help="The bot's saved state: rebuild it from the exchange.", no_args_is_help=True
    )
    group.command("rebuild")(rebuild)
    app.add_typer(group, name="state")


def rebuild(
    mode: Annotated[
        str | None, typer.Option(help="paper (a running sandbox) or live; default: config.")
    ] = None,
    config_path: ConfigOption = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file to rebuild into (default: config).")
    ] = None,
) -> None:
    """Rebuild an empty or lost database from the exchange: open orders, fills, balances.

    Reads only: nothing is sent to the exchange. Stop the bot first; then `tradebot run`.
    """
    from tradebot.cli import state_session  # imported when it runs, not for --help

    state_session.start_rebuild(mode=mode, config_path=config_path, db=db)
