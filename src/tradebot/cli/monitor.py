"""``tradebot monitor``: alerts and Telegram commands for a bot's database, on their own.

``tradebot run`` already monitors when the config names a channel; this runs the same
Monitor in a process of its own (beside a bot, or after it), reading the database only.

The command is declared here; what it does is in ``monitor_session.py``, imported when it
runs, so that ``--help`` answers without importing the monitor and the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to ``app``."""
    app.command("monitor")(monitor)


def monitor(
    context: typer.Context,
    config_path: ConfigOption = None,
    db: Annotated[Path | None, typer.Option("--db", help="The bot's database.")] = None,
) -> None:
    """Send the bot's alerts and answer Telegram commands until Ctrl-C."""
    from tradebot.cli import monitor_session  # imported when it runs, not for --help

    monitor_session.start_monitor(context, config_path, db)
