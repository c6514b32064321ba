"""What ``tradebot state rebuild`` does; ``state.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports the exchange, the engine and the database (2.3 s of CPU before ``state --help``
answered without them).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from tradebot.cli.setup import configure
from tradebot.config import Config
from tradebot.domain.errors import ConfigError, StateError, TradebotError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import from_config
from tradebot.exchange.ccxt.factory import connect, settings_from_config
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.rebuild import Rebuilt, rebuild_state
from tradebot.state import Repository, acquire_instance_lock, create_database, inspect_database


def start_rebuild(
    mode: str | None,
    config_path: Path | None,
    db: Path | None,
) -> None:
    """The work of ``state.rebuild``, which declares its options and help."""
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
