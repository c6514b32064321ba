"""What ``tradebot serve market-data|strategy|execution|monitor`` do; ``serve.py`` declares them.

Each command reads the config, connects to the exchange and to the Redis bus
(``services.bus``), builds its service and runs it until SIGINT/SIGTERM. Kept apart from the
declarations: a command's ``--help`` imports its module, and this one imports the exchange,
the engine, the database, the bus and the monitor (2.9 s of CPU before ``serve --help``
answered without them).
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import typer

from tradebot.cli.monitor_session import run_monitor
from tradebot.cli.run_session import bot_settings
from tradebot.cli.serving import embedded_dashboard
from tradebot.cli.setup import configure, existing_repository, log_as_configured, open_repository
from tradebot.cli.venues import embedded_sandbox, live_credentials
from tradebot.config import Config
from tradebot.config.exchange import pick_venue
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.factory import connect, connect_venues, settings_from_config
from tradebot.exchange.port import ExchangeConnector
from tradebot.monitoring.bus_metrics import bus_registry
from tradebot.monitoring.server import serve_registry
from tradebot.monitoring.service import Monitor
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.collector import startup_frozen
from tradebot.orchestrator.rebuild import refuse_blind_start
from tradebot.services.alerts import BusAlerts
from tradebot.services.assembly import (
    bus_consumer,
    execution_service,
    market_data_service,
    redis_bus,
    strategy_service,
)
from tradebot.services.bus import BusConsumer, Family
from tradebot.services.bus.redis_streams import RedisStreamsBus
from tradebot.services.metrics import bus_stats
from tradebot.state import acquire_instance_lock, create_database, inspect_database

BUS_RETRY_S = 5.0  # a bus down past its retry_for_s: the services poll it again this often


def serve_market_data(context: typer.Context, config_path: Path | None, venue: str | None) -> None:
    """``tradebot serve market-data``: publish one venue's closed candles until stopped."""
    _serve(lambda: _market_data(_configured(context, config_path, None), venue))


def serve_strategy(context: typer.Context, config_path: Path | None, name: str | None) -> None:
    """``tradebot serve strategy``: decide and publish the signals until stopped."""
    _serve(lambda: _strategy(_configured(context, config_path, None), name or _host()))


def serve_execution(
    context: typer.Context,
    config_path: Path | None,
    db: Path | None,
    name: str | None,
    real_money: bool,
) -> None:
    """``tradebot serve execution``: act on the published signals until stopped."""
    _serve(lambda: _execution(_configured(context, config_path, db), name or _host(), real_money))


def serve_monitor(
    context: typer.Context, config_path: Path | None, db: Path | None, name: str | None
) -> None:
    """``tradebot serve monitor``: the alerts, Telegram and the dashboard until stopped."""
    _serve(lambda: _monitor_service(_configured(context, config_path, db), name or _host()))


def _configured(context: typer.Context, config_path: Path | None, db: Path | None) -> Config:
    # The config, and the log at monitoring.log_level and log_format as `tradebot run`
    # logs (unless --log-level, TRADEBOT_LOG_LEVEL or --log-json said otherwise).
    config = configure(config_path, None, db)
    log_as_configured(context, config)
    return config


# ----------------------------------------------------------------------------- the services
def _serve(run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        asyncio.run(run())
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _host() -> str:
    return socket.gethostname()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


# What every service opens first and closes last, whatever ends it: the exchange
# (``_connector``'s options; its settings refused first) and the bus.
@asynccontextmanager
async def _bus(config: Config) -> AsyncIterator[RedisStreamsBus]:
    bus = redis_bus(config)
    try:
        yield bus
    finally:
        await bus.close()


@asynccontextmanager
async def _exchange(
    connect_to: Callable[[], ExchangeConnector],
) -> AsyncIterator[ExchangeConnector]:
    connector = connect_to()
    try:
        yield connector
    finally:
        await connector.close()


def _paper_or_live(config: Config) -> None:
    if config.exchange.mode == "backtest":
        raise ConfigError("exchange.mode is backtest: the services trade paper or live")
    if config.exchange.mode == "paper" and embedded_sandbox(config):
        raise ConfigError(
            "the services share one sandbox, which none of them embeds: set "
            "exchange.sandbox.embedded: false and start it with `tradebot sandbox`"
        )


def _venue_connector(config: Config, venue_id: str | None, websockets: bool) -> CcxtConnector:
    # One venue's public market data (market-data: one service a venue), no keys sent live.
    _paper_or_live(config)
    settings = settings_from_config(config, venue_id=venue_id, websockets=websockets)
    return connect(settings, public_only=config.exchange.mode == "live")


def _connector(
    config: Config, *, real_money: bool = False, public: bool = False
) -> ExchangeConnector:
    # Every venue (a VenueRouter for several). ``public``: market data only (strategy), no
    # keys needed or sent live.
    _paper_or_live(config)
    if config.exchange.mode == "paper":
        return connect_venues(config)
    if public:
        return connect_venues(config, public_only=True)
    return connect_venues(config, partial(live_credentials, config, real_money))


async def _market_data(config: Config, venue_id: str | None) -> None:
    ws = config.services.market_data.websocket
    venue = pick_venue(config.venues, venue_id)
    connect_to = partial(_venue_connector, config, venue_id, ws)
    async with _exchange(connect_to) as connector, _bus(config) as bus:
        service = market_data_service(config, connector, bus, venue.id, venue.symbols)
        stop = _stop_on_signals()
        typer.echo(f"market-data serving {venue.id}; Ctrl-C stops")
        await service.run(stop)


async def _strategy(config: Config, name: str) -> None:
    # public candles only, to fill a window
    async with _exchange(partial(_connector, config, public=True)) as history, _bus(config) as bus:
        window = bot_settings(config).window_bars
        label = "+".join(v.id for v in config.venues)  # the venues its signals are for
        handler = strategy_service(config, bus, history, label, window)
        consumer = bus_consumer(config, bus, Family.MARKET_DATA, "strategy", name, handler)
        stop = _stop_on_signals()
        typer.echo(f"strategy serving as {name}; Ctrl-C stops")
        await consumer.run(stop, retry_after_s=BUS_RETRY_S)


async def _execution(config: Config, name: str, real_money: bool) -> None:
    with acquire_instance_lock(config.database.sqlalchemy_url):  # one writer of orders
        connect_to = partial(_connector, config, real_money=real_money)
        async with _exchange(connect_to) as connector, _bus(config) as bus:
            saved = inspect_database(config.database.sqlalchemy_url)
            factory, symbols = engine_factory(config), config.trading.all_symbols
            await refuse_blind_start(factory, connector, symbols, saved)
            settings = config.services.execution
            service = execution_service(
                config, connector, open_repository(config), bus, bot_settings(config),
                int(settings.max_signal_age_s * 1000),
            )  # fmt: skip
            await service.start()
            consumer = bus_consumer(config, bus, Family.SIGNALS, "execution", name, service)
            stop = _stop_on_signals()
            typer.echo(f"execution serving as {name}; Ctrl-C stops")
            # One loop, so that signals and syncs never run at once on the one engine.
            with startup_frozen():  # no full collection walks start-up's objects
                await consumer.run(
                    stop, retry_after_s=BUS_RETRY_S, after_poll=service.sync_when_due
                )


async def _monitor_service(config: Config, name: str) -> None:
    existing_repository(config)  # refuses a path that holds no bot database
    running = Monitor.build(config, create_database(config.database.sqlalchemy_url))
    settings = config.monitoring
    async with _bus(config) as bus:
        alerts = BusAlerts(running.manager, running.watch.repository)
        consumer = bus_consumer(config, bus, Family.ALERTS, "monitor", name, alerts, alerts)
        registry = bus_registry(lambda: bus_stats(bus), alerts.raised)
        with serve_registry(registry, settings.metrics_host, settings.metrics_port) as endpoint:
            if endpoint is not None:
                typer.echo(f"Prometheus metrics of the bus on {endpoint.url}")
            await _monitor_until_stopped(config, running, consumer)


async def _monitor_until_stopped(config: Config, running: Monitor, consumer: BusConsumer) -> None:
    async with embedded_dashboard(config) as dashboard:
        if dashboard is not None:
            typer.echo(f"dashboard on {dashboard.url}")
        # Redis down: the database's alerts and the dashboard go on, and the bus is
        # tried again (its alerts wait in the group meanwhile).
        await run_monitor(running, lambda stop: consumer.run(stop, retry_after_s=BUS_RETRY_S))
