"""``tradebot exchange check [CONFIG]``: connectivity, clock skew, markets, balances, key rights.

Exits 0 when the account is fit to trade, 1 when it is not (unreachable, key refused, clock
off, or a key that may withdraw funds). Secrets never appear in the output.

The command is declared here; what it does is in ``exchange_session.py``, imported when
it runs, so that ``--help`` answers without importing ccxt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``exchange`` command group to ``app``."""
    exchange_app = typer.Typer(help="Check the exchange account the bot trades on.")
    exchange_app.command("check")(check)
    app.add_typer(exchange_app, name="exchange")


def check(
    path: Annotated[
        Path | None, typer.Argument(help="Config YAML; omit for the built-in default (paper).")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Sandbox URL to check instead of the configured one.")
    ] = None,
    venue: Annotated[
        str | None, typer.Option(help="Venue id of exchange.venues to check (several venues).")
    ] = None,
) -> None:
    """Report connectivity, clock skew, markets, balances and withdrawal permission."""
    from tradebot.cli import exchange_session  # imported when it runs, not for --help

    exchange_session.start_check(path=path, url=url, venue=venue)
