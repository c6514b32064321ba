"""The web dashboard and REST API: the bot's state read from its database, and the controls.

``create_app`` builds the FastAPI application, ``DashboardServer`` serves it with uvicorn after
``check_bind`` has allowed the address. See docs/monitoring.md.
"""

from tradebot.monitoring.dashboard.app import DashboardParts, create_app
from tradebot.monitoring.dashboard.auth import hash_password
from tradebot.monitoring.dashboard.events import LogBuffer
from tradebot.monitoring.dashboard.server import DashboardServer, check_bind

__all__ = [
    "DashboardParts",
    "DashboardServer",
    "LogBuffer",
    "check_bind",
    "create_app",
    "hash_password",
]
