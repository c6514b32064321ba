"""``tradebot monitor``: alerts and Telegram commands for a bot's database, on their own.

``tradebot run`` already monitors when the config names a channel; this runs the same
Monitor in a process of its own (beside a bot, or after it), reading the database only.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption
from tradebot.cli.setup import configure, existing_repository, log_as_configured
from tradebot.domain.errors import TradebotError
from tradebot.monitoring.service import Monitor
from tradebot.state import create_database


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to ``app``."""
    app.command("monitor")(monitor)


def monitor(
    context: typer.Context,
    config_path: ConfigOption = None,
    db: Annotated[Path | None, typer.Option("--db", help="The bot's database.")] = None,
) -> None:
    """Send the bot's alerts and answer Telegram commands until Ctrl-C."""
    try:
        config = configure(config_path, None, db)
        log_as_configured(context, config)
        existing_repository(config)  # refuses a path that holds no bot database
        asyncio.run(
            _monitor(Monitor.build(config, create_database(config.database.sqlalchemy_url)))
        )
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


async def _monitor(
    running: Monitor, beside: Callable[[asyncio.Event], Awaitable[None]] | None = None
) -> None:
    # ``beside``: a task run alongside until the same stop (``serve monitor``'s bus reader).
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    typer.echo("monitoring; Ctrl-C stops")
    try:
        await asyncio.gather(running.run(stop), *([beside(stop)] if beside else []))
        await running.flush()
    finally:
        await running.close()
