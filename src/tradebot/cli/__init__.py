"""The ``tradebot`` command: parse arguments, build objects, call in. No logic lives here.

Each command group is a module of this package with a ``register(app)`` function, listed in
``commands.COMMANDS`` and imported only when its command runs (see ``lazy_group``). The module
declares the commands; what they do is in ``<module>_session.py``, imported when one runs, so
that ``--help`` imports none of it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tradebot.cli.lazy_group import LazyGroup
from tradebot.monitoring.logging import configure_logging, environment_secrets


def _print_version(asked: bool) -> None:
    if asked:
        from tradebot.cli.build import describe_build

        typer.echo(describe_build())
        raise typer.Exit


def _set_up_logging(
    log_level: Annotated[
        str,
        typer.Option(
            envvar="TRADEBOT_LOG_LEVEL",
            help="DEBUG, INFO, WARNING or ERROR.",
        ),
    ] = "WARNING",
    log_json: Annotated[bool, typer.Option(help="Log JSON lines instead of text.")] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and whether the order lifecycle is compiled, and exit.",
        ),
    ] = False,
) -> None:
    """Crypto trading bot: backtest, paper-trade and trade live on one engine."""
    configure_logging(log_level, "json" if log_json else "console", environment_secrets())


def build_app() -> typer.Typer:
    """Assemble the typer app; each command's module is imported when that command is used."""
    app = typer.Typer(
        name="tradebot",
        help="Crypto trading bot: backtest, paper-trade and trade live on one engine.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        callback=_set_up_logging,
        cls=LazyGroup,
    )
    return app


def main() -> None:
    """Entry point of the ``tradebot`` console script."""
    build_app()()
