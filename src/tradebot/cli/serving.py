"""The dashboard as ``tradebot dashboard`` and ``tradebot run`` serve it, built from the config.

Wiring only: the bind policy, the live log's secret masking and the staleness the health page
uses all come from the config here, once for both commands.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING

from tradebot.config import Config
from tradebot.domain.market import timeframe_to_ms
from tradebot.monitoring.logging import environment_secrets
from tradebot.state import Database, Repository
from tradebot.state.outbox import AlertOutbox

if TYPE_CHECKING:
    from tradebot.monitoring.dashboard import DashboardServer


def dashboard_server(
    config: Config, database: Database, allow_remote: bool = False, *, own_signals: bool = False
) -> DashboardServer:
    """The dashboard over ``database`` as ``config`` sets it up (the socket already bound).

    ``database`` is the dashboard's own connection (lazy: nothing is opened until a request).

    Raises:
        ConfigError: the bind policy refuses the host, or the port cannot be bound.
    """
    # FastAPI, uvicorn and plotly: imported only by a process that serves the dashboard,
    # not at every start of `tradebot run` or `tradebot serve` (most run without it)
    from tradebot.monitoring.dashboard import (
        DashboardParts,
        DashboardServer,
        LogBuffer,
        check_bind,
        create_app,
    )

    settings = config.monitoring.dashboard
    check_bind(settings, allow_remote)
    bar_s = timeframe_to_ms(config.trading.timeframe) / 1000
    logs = LogBuffer([*config.secret_values(), *environment_secrets()])
    stale_after_s = 2 * bar_s + config.trading.cycle_interval_s
    parts = DashboardParts(
        Repository(database), AlertOutbox(database), settings, logs, stale_after_s
    )
    app = create_app(parts)
    return DashboardServer(app, settings.host, settings.port, own_signals=own_signals)


def embedded_dashboard(
    config: Config,
) -> AbstractAsyncContextManager[DashboardServer | None]:
    """The dashboard ``tradebot run`` serves when ``monitoring.dashboard.enabled``; else none.

    It gets its own lazy connection to the bot's database: nothing is opened (or created)
    before the bot has checked the database.
    """
    if not config.monitoring.dashboard.enabled:
        return nullcontext()
    return dashboard_server(config, Database(config.database.sqlalchemy_url))
