"""``tradebot dashboard``: serve the web dashboard over a bot's database; and its passwords.

Wiring only. ``tradebot run`` starts the same dashboard inside the bot when
``monitoring.dashboard.enabled`` is true (``serving.dashboard_server`` builds it for both).

The commands are declared here; what they do is in ``dashboard_session.py``, imported when
one runs, so that ``--help`` answers without importing FastAPI, Argon2 and the database.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, DbOption

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
    from tradebot.cli import dashboard_session  # imported when it runs, not for --help

    dashboard_session.start_dashboard(
        ctx=ctx, config_path=config_path, db=db, host=host, port=port, allow_remote=allow_remote
    )


def hash_password_command(
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Print an Argon2id hash of a password, for monitoring.dashboard.users[].password_hash."""
    from tradebot.cli import dashboard_session  # imported when it runs, not for --help

    dashboard_session.start_hash_password(stdin=stdin)
