"""What ``tradebot monitor`` does; ``monitor.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports the monitor and the database (1.4 s of CPU before ``monitor --help`` answered without
them). ``tradebot serve monitor`` runs the same loop (``run_monitor``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import typer

from tradebot.cli.setup import configure, existing_repository, log_as_configured
from tradebot.domain.errors import TradebotError
from tradebot.monitoring.service import Monitor
from tradebot.state import create_database


def start_monitor(context: typer.Context, config_path: Path | None, db: Path | None) -> None:
    """Monitor the configured database until SIGINT/SIGTERM; a refused config exits 2."""
    try:
        config = configure(config_path, None, db)
        log_as_configured(context, config)
        existing_repository(config)  # refuses a path that holds no bot database
        asyncio.run(
            run_monitor(Monitor.build(config, create_database(config.database.sqlalchemy_url)))
        )
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


async def run_monitor(
    running: Monitor, beside: Callable[[asyncio.Event], Awaitable[None]] | None = None
) -> None:
    """Run ``running`` until SIGINT/SIGTERM, then flush and close it.

    ``beside``: a task run alongside until the same stop (``serve monitor``'s bus reader).
    """
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
