"""``tradebot serve market-data|strategy|execution|monitor``: the services, one per process.

Wiring only: each command reads the config, connects to the exchange and to the Redis bus
(``services.bus``), builds its service and runs it until SIGINT/SIGTERM. The services and
when to choose them over ``tradebot run`` are in docs/distributed.md.

The commands are declared here; what they do is in ``serve_session.py``, imported when one
runs, so that ``--help`` answers without importing the exchange, the engine and the bus.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, DbOption
from tradebot.cli.venues import REAL_MONEY_FLAG

NameOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="This consumer's name in its group (default: host name); keep it across restarts.",
    ),
]
VenueOption = Annotated[
    str | None,
    typer.Option("--venue", help="Venue id of exchange.venues to serve (several venues)."),
]
RealMoneyOption = Annotated[
    bool, typer.Option(REAL_MONEY_FLAG, help="Live: confirm that orders use real money.")
]


def register(app: typer.Typer) -> None:
    """Add ``serve`` and its four services to ``app``."""
    serve = typer.Typer(
        help="Run one service of the distributed deployment (docs/distributed.md).",
        no_args_is_help=True,
    )
    serve.command("market-data")(market_data)
    serve.command("strategy")(strategy)
    serve.command("execution")(execution)
    serve.command("monitor")(monitor)
    app.add_typer(serve, name="serve")


def market_data(
    context: typer.Context, config_path: ConfigOption = None, venue: VenueOption = None
) -> None:
    """Publish the exchange's closed candles to the bus (one per exchange)."""
    from tradebot.cli import serve_session  # imported when it runs, not for --help

    serve_session.serve_market_data(context, config_path, venue)


def strategy(
    context: typer.Context, config_path: ConfigOption = None, name: NameOption = None
) -> None:
    """Decide each symbol's signal at every closed bar and publish them."""
    from tradebot.cli import serve_session

    serve_session.serve_strategy(context, config_path, name)


def execution(
    context: typer.Context,
    config_path: ConfigOption = None,
    db: DbOption = None,
    name: NameOption = None,
    real_money: RealMoneyOption = False,
) -> None:
    """Act on the published signals: the only writer of orders and of the order tables."""
    from tradebot.cli import serve_session

    serve_session.serve_execution(context, config_path, db, name, real_money)


def monitor(
    context: typer.Context,
    config_path: ConfigOption = None,
    db: DbOption = None,
    name: NameOption = None,
) -> None:
    """Alerts (the database's and the services' on the bus), Telegram commands and the
    dashboard, from the database the execution writes."""
    from tradebot.cli import serve_session

    serve_session.serve_monitor(context, config_path, db, name)
