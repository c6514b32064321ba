"""What ``tradebot dashboard`` and ``dashboard hash-password`` do; ``dashboard.py`` declares them.

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports FastAPI, Argon2 and the database (1.8 s of CPU before ``dashboard --help`` answered
without them).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from tradebot.cli.serving import dashboard_server
from tradebot.cli.setup import configure, log_as_configured, open_repository
from tradebot.config import with_overrides
from tradebot.domain.errors import TradebotError
from tradebot.monitoring.dashboard import hash_password
from tradebot.state import Database


def start_dashboard(
    ctx: typer.Context,
    config_path: Path | None,
    db: Path | None,
    host: str | None,
    port: int | None,
    allow_remote: bool,
) -> None:
    """The work of ``dashboard.dashboard``, which declares its options and help."""
    try:
        config = configure(config_path, None, db)
        log_as_configured(ctx, config)
        updates = {f"monitoring.dashboard.{k}": v for k, v in (("host", host), ("port", port))}
        updates = {k: v for k, v in updates.items() if v is not None}
        if updates:
            config = with_overrides(config, dict(updates), "command line")
        open_repository(config, create=False)  # it must exist; brought to the newest schema
        database = Database(config.database.sqlalchemy_url)
        server = dashboard_server(config, database, allow_remote, own_signals=True)
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"dashboard of {config.database.path} on {server.url} (Ctrl-C stops)")
    asyncio.run(server.serve_forever())


def start_hash_password(
    stdin: bool,
) -> None:
    """The work of ``dashboard.hash_password_command``, which declares its options and help."""
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        typer.echo("error: use a password of at least 8 characters", err=True)
        raise typer.Exit(2)
    typer.echo(hash_password(password))
