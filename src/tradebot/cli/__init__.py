"""The ``tradebot`` command: parse arguments, build objects, call in. No logic lives here.

Each command group is a module of this package with a ``register(app)`` function.
"""

from __future__ import annotations

import typer

from tradebot.cli import commands


def build_app() -> typer.Typer:
    """Assemble the typer app from every command module."""
    app = typer.Typer(
        name="tradebot",
        help="Crypto trading bot: backtest, paper-trade and trade live on one engine.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    for module in commands.MODULES:
        module.register(app)
    return app


def main() -> None:
    """Entry point of the ``tradebot`` console script."""
    build_app()()
