"""``tradebot locks``: list the protections' locks, and lift them by hand.

Wiring only, like ``tradebot stop``: it reads and writes the bot's database, never a running
engine. A running bot hands the locks left to its engine at its next cycle
(``orchestrator.continuity.restore_locks``); a lift is audited in ``control_actions``
under the shell user's name (``orchestrator.controls.lift_locks``).

The commands are declared here; what they do is in ``locks_session.py``, imported when
one runs, so that ``--help`` answers without importing the database.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, DbOption


def register(app: typer.Typer) -> None:
    """Add the ``locks`` group (list; ``locks unlock``) to ``app``."""
    group = typer.Typer(
        help="The protections' locks on new entries: list them, lift them.",
        invoke_without_command=True,
    )
    group.callback()(locks)
    group.command("unlock")(unlock)
    app.add_typer(group, name="locks")


def locks(
    context: typer.Context,
    every: Annotated[
        bool, typer.Option("--all", help="Also the locks that ended or were lifted.")
    ] = False,
    config_path: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """List the locks in force at the bot's next bar (each symbol's, and those on all)."""
    if context.invoked_subcommand is not None:
        return
    from tradebot.cli import locks_session  # imported when it runs, not for --help

    locks_session.start_locks(every=every, config_path=config_path, db=db)


def unlock(
    symbol: Annotated[str | None, typer.Argument(help="The symbol, e.g. BTC/USDT.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Lift every lock.")] = False,
    config_path: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Lift the locks on SYMBOL, or every lock with --all (audited).

    The bot may enter again from its next bar, unless a lock on all symbols holds it.
    """
    from tradebot.cli import locks_session  # imported when it runs, not for --help

    locks_session.start_unlock(symbol=symbol, every=every, config_path=config_path, db=db)
