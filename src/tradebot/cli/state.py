"""``tradebot state rebuild``: rebuild a lost database from what the exchange knows.

Wiring only: the config picks the venue (live keys, or a sandbox the bot does not embed),
the instance lock keeps a running bot off the database, ``orchestrator.rebuild`` does the
work. Nothing is sent to the exchange.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption
from tradebot.cli.setup import configure
from tradebot.config import Config
from tradebot.domain.errors import ConfigError, StateError, TradebotError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import from_config
from tradebot.exchange.ccxt.factory import connect, settings_from_config
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.rebuild import Rebuilt, rebuild_state
from tradebot.state import Repository, acquire_instance_lock, create_database, inspect_database


def register(app: typer.Typer) -> None:
    """Add the ``state`` group (``state rebuild``) to ``app``."""
    group = typer.Typer(
        help="The bot's saved state: rebuild it from the exchange.", no_args_is_help=True
    )
    group.command("rebuild")(rebuild)
    app.add_typer(group, name="state")


def rebuild(
    mode: Annotated[
        str | None, typer.Option(help="paper (a running sandbox) or live; default: config.")
    ] = None,
    config_path: ConfigOption = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file to rebuild into (default: config).")
    ] = None,
) -> None:
    """Rebuild an empty or lost database from the exchange: open orders, fills, balances.

    Reads only: nothing is sent to the exchange. Stop the bot first; then `tradebot run`.
    """
    try:
        config = configure(config_path, mode, db)
        connector = _connector(config)
        url = config.database.sqlalchemy_url
        with acquire_instance_lock(url):
            saved = inspect_database(url)
            if not saved.is_empty:
                raise StateError(
                    f"the database {saved.location} already holds {saved.orders} orders and "
                    f"{saved.fills} fills: rebuild writes only into an empty database. Move "
                    "it aside (keep it) and rebuild into a new --db"
                )
            done = asyncio.run(_rebuild(config, connector))
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    held = ", ".join(f"{qty} {s.split('/')[0]}" for s, qty in done.positions.items())
    typer.echo(
        f"rebuilt {', '.join(done.positions)} from the exchange into {saved.location}: "
        f"{done.orders} orders ({done.open_orders} open), {done.fills} fills, "
        f"{done.trades} closed trades, holding {held}, starting cash "
        f"{done.starting_cash} {done.quote}. Nothing was sent to the exchange. "
        "Check it with `tradebot status`, then start with `tradebot run`."
    )


def _connector(config: Config) -> CcxtConnector:
    if len(config.venues) > 1:
        raise ConfigError(
            "rebuild reads one exchange account; with several venues (exchange.venues: "
            f"{', '.join(v.id for v in config.venues)}) it is not supported yet: restore the "
            "database from a backup, or start each venue's account on a fresh one"
        )
    if config.exchange.mode == "live":
        credentials = from_config(config)
        if credentials is None:
            raise ConfigError(
                "rebuild reads the live account: set BINANCE_API_KEY and BINANCE_API_SECRET, "
                "or exchange.credentials_file"
            )
        return connect(settings_from_config(config), credentials)
    if config.exchange.mode != "paper" or config.exchange.sandbox.embedded:
        raise ConfigError(
            "rebuild reads an exchange account that outlives the bot: use --mode live, or a "
            "sandbox you run yourself (exchange.sandbox.embedded: false); an embedded "
            "sandbox starts a new, empty account on every run"
        )
    return connect(settings_from_config(config))


async def _rebuild(config: Config, connector: CcxtConnector) -> Rebuilt:
    try:
        repo = Repository(create_database(config.database.sqlalchemy_url))
        symbols = config.trading.all_symbols
        return await rebuild_state(engine_factory(config), connector, repo, symbols)
    finally:
        await connector.close()
