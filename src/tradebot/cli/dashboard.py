"""``tradebot dashboard``: serve the web dashboard over a bot's database; and its passwords.

Wiring only. ``tradebot run`` starts the same dashboard inside the bot when
``monitoring.dashboard.enabled`` is true (``serving.dashboard_server`` builds it for both).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, DbOption
from tradebot.cli.serving import dashboard_server
from tradebot.cli.setup import configure, log_as_configured, open_repository
from tradebot.config import with_overrides
from tradebot.domain.errors import TradebotError
from tradebot.monitoring.dashboard import hash_password
from tradebot.state import Database

ALLOW_REMOTE_FLAG = "--allow-remote"


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` group: serve, and ``hash-password``."""
    group = typer.Typer(
        help="The web dashboard and REST API over a bot's database.",
        invoke_without_command=True,
    )
    group.callback(invoke_without_command=True)(dashboard)
    group.command("hash-password")(hash_password_command)
    app.add_typer(group, name="dashboard")


def dashboard(
    ctx: typer.Context,
    config_path: ConfigOption = None,
    db: DbOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: config, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: config, 8080).")] = None,
    allow_remote: Annotated[
        bool, typer.Option(ALLOW_REMOTE_FLAG, help="Allow a non-loopback host (needs users).")
    ] = False,
) -> None:
    """Serve the dashboard of the bot whose state is in --db, until Ctrl-C.

    Reads the database only (it may be in use by a running bot); the controls write the
    same control state as `tradebot stop`/`resume`.
    """
    if ctx.invoked_subcommand is not None:
        return
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


def hash_password_command(
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Print an Argon2id hash of a password, for monitoring.dashboard.users[].password_hash."""
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        typer.echo("error: use a password of at least 8 characters", err=True)
        raise typer.Exit(2)
    typer.echo(hash_password(password))
