"""What watches a paper or live session of ``tradebot run``, a replay included.

The monitor (alerts and Telegram commands), ``/metrics`` with its log line, and the
dashboard, built from ``config.monitoring`` once for every kind of session: a replay is a
paper session at full speed, and the config's monitoring acts on it as on any other.
Wiring only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from rich.console import Console

from tradebot.config import Config
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.port import ExchangeConnector
from tradebot.monitoring.metrics import MetricsCollector
from tradebot.monitoring.server import serve_metrics
from tradebot.monitoring.service import monitoring
from tradebot.orchestrator.recording import TradeSource
from tradebot.state import Database, Repository

if TYPE_CHECKING:  # the dashboard's FastAPI only where one is served (cli.serving)
    from tradebot.monitoring.dashboard import DashboardServer


def session_metrics(
    config: Config, connector: ExchangeConnector, trades: TradeSource | None = None
) -> MetricsCollector:
    """The session's metrics: its own lazy connection to the bot's database (scrapes read it
    from another thread; nothing is opened before the bot has checked and created it)."""
    connectors = [c.metrics for c in (connector, trades) if isinstance(c, CcxtConnector)]
    return MetricsCollector(
        Repository(Database(config.database.sqlalchemy_url)),
        symbols=config.trading.all_symbols,
        timeframe=config.trading.timeframe,
        cycle_budget_s=float(config.trading.cycle_interval_s),
        connectors=connectors,
    )


@asynccontextmanager
async def watched(
    config: Config,
    connector: ExchangeConnector,
    collector: MetricsCollector,
    dashboard: AbstractAsyncContextManager[DashboardServer | None],
    console: Console,
) -> AsyncIterator[None]:
    """Monitor, serve ``/metrics`` and the dashboard for the block, as ``config`` says.

    ``dashboard``: ``embedded_dashboard(config)``, made before the bot (it binds its port).
    The monitor notes the bot's start, alerts if the block ends on an error, and delivers
    what is due before it returns.
    """
    settings = config.monitoring
    latency = connector.metrics if isinstance(connector, CcxtConnector) else None
    async with (
        monitoring(config, latency),
        serve_metrics(
            collector, settings.metrics_host, settings.metrics_port, settings.metrics_interval_s
        ) as endpoint,
        dashboard as served,
    ):
        if endpoint is not None:
            console.print(f"Prometheus metrics on {endpoint.url}")
        if served is not None:
            console.print(f"dashboard on {served.url}")
        yield
