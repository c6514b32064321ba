"""``tradebot config show [PATH]`` and ``tradebot config validate PATH``.

``show`` prints the config the bot would run with: every default filled in and every
``${ENV_VAR}`` resolved, with secrets masked. ``validate`` checks a file, including that every
symbol's strategy (and each ensemble member) exists and accepts its params, and exits 1 with
every problem listed.

The commands are declared here; what they do is in ``config_session.py``, imported
when one runs, so that ``--help`` answers without importing the strategies and pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``config`` command group to ``app``."""
    config_app = typer.Typer(help="Show or validate a config file.", no_args_is_help=True)
    config_app.command("show")(show)
    config_app.command("validate")(validate)
    app.add_typer(config_app, name="config")


def show(
    path: Annotated[
        Path | None, typer.Argument(help="Config YAML; omit for the built-in default.")
    ] = None,
) -> None:
    """Print the resolved config as YAML, secrets masked as **********."""
    from tradebot.cli import config_session  # imported when it runs, not for --help

    config_session.start_show(path=path)


def validate(
    path: Annotated[Path, typer.Argument(help="Config YAML to check.")],
) -> None:
    """Check a config file; exit 1 and list every problem if it is wrong."""
    from tradebot.cli import config_session  # imported when it runs, not for --help

    config_session.start_validate(path=path)
