"""Serve the dashboard with uvicorn, on an address the bind policy allows.

The bind policy (design VI.C): loopback by default. Any other address is refused unless
users are configured (so every request needs a login) *and* the operator said so explicitly
(``allow_remote``, or ``--allow-remote``). The socket is bound here before uvicorn starts, so
the port is known at once (``port: 0`` picks a free one) and a busy port is a clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Iterator
from types import TracebackType

import structlog
import uvicorn
from fastapi import FastAPI

from tradebot.config.monitoring import DashboardConfig, is_loopback
from tradebot.domain.errors import ConfigError

log = structlog.get_logger("tradebot.dashboard")
_SHUTDOWN_GRACE_S = 2


def check_bind(settings: DashboardConfig, allow_remote: bool = False) -> None:
    """Refuse an address the policy does not allow.

    Raises:
        ConfigError: a non-loopback host without users or without the explicit flag.
    """
    host = settings.host
    if is_loopback(host):
        return
    missing = []
    if not settings.users:
        missing.append("monitoring.dashboard.users (every request then needs a login)")
    if not (allow_remote or settings.allow_remote):
        missing.append("the explicit flag --allow-remote (or monitoring.dashboard.allow_remote)")
    if missing:
        raise ConfigError(
            f"the dashboard would listen on {host}, which is not loopback: other machines "
            f"could reach it. It needs {' and '.join(missing)}; or keep host: 127.0.0.1 and "
            "reach it through an SSH tunnel"
        )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"the dashboard cannot listen on {host}:{port}: the port is in use. Set "
                "monitoring.dashboard.port (or --port) to a free port, or 0 for any"
            ) from None
        raise ConfigError(f"the dashboard cannot listen on {host}:{port}: {exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class _Embedded(uvicorn.Server):
    # Inside `tradebot run` the bot owns SIGINT/SIGTERM (it stops, then stops the dashboard).
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class DashboardServer:
    """uvicorn serving ``app`` in the running event loop, as an async context manager."""

    def __init__(self, app: FastAPI, host: str, port: int, *, own_signals: bool = False) -> None:
        """Bind ``host:port`` now (raises ConfigError when that fails); serve on ``start``.

        With ``own_signals`` (``tradebot dashboard`` alone) Ctrl-C stops the server; otherwise
        signals are left to whoever runs the loop (the bot).
        """
        self._app = app
        self._socket = _bind(host, port)
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            log_config=None,  # tradebot's logging set-up stays in charge
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=_SHUTDOWN_GRACE_S,
        )
        self._server = uvicorn.Server(config) if own_signals else _Embedded(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Serve in the background of the running loop; the live log starts collecting."""
        self._app.state.logs.attach()
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        log.info("dashboard serving", url=self.url)

    async def stop(self) -> None:
        """Stop serving: open event streams end, then uvicorn shuts down."""
        self._app.state.closing.set()
        self._server.should_exit = True
        try:
            if self._task is not None:
                await self._task
        finally:
            self._app.state.logs.detach()
            self._socket.close()

    async def serve_forever(self) -> None:
        """Serve until uvicorn exits (on Ctrl-C or SIGTERM with ``own_signals``)."""
        self._app.state.logs.attach()
        log.info("dashboard serving", url=self.url)
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            self._app.state.closing.set()
            self._app.state.logs.detach()
            self._socket.close()

    async def __aenter__(self) -> DashboardServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
