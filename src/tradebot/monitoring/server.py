"""Serve ``/metrics`` beside the running bot, and log a metrics line every interval.

The HTTP server is prometheus-client's own (a thread; each scrape reads the database in that
thread, never in the bot's event loop). It listens on loopback unless the config allows
otherwise (``monitoring.metrics_allow_remote``): the page has no login and shows balances.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry, start_http_server

from tradebot.domain.errors import ConfigError
from tradebot.monitoring.figures import Figures
from tradebot.monitoring.metrics import MetricsCollector

log = structlog.get_logger("tradebot.metrics")


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    """Where ``/metrics`` is served."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The page's URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"


def log_figures(collector: MetricsCollector, figures: Figures) -> None:
    """Write one INFO line with the headline figures (``monitoring.metrics_interval_s``)."""
    snap = figures.snapshot
    log.info(
        "metrics",
        equity=None if snap is None else str(snap.equity),
        cash=None if snap is None else str(snap.cash),
        unrealised_pnl=str(figures.unrealised_pnl),
        daily_pnl=None if figures.daily_pnl is None else str(figures.daily_pnl),
        drawdown_pct=round(figures.drawdown * 100, 3),
        positions={s: str(h.qty) for s, h in figures.holdings.items()},
        trades_today=figures.trades_today,
        win_rate=None if figures.win_rate is None else round(figures.win_rate, 4),
        kill_switch=figures.kill_switch.value,
        discrepancies=sum(figures.discrepancies.values()),
        cycles=0 if collector.stats is None else collector.stats.cycles,
        errors=0 if collector.stats is None else collector.stats.errors,
        uptime_s=round(collector.uptime_s()),
    )


async def _log_every(collector: MetricsCollector, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        figures = await asyncio.to_thread(collector.figures.read)
        log_figures(collector, figures)


@contextlib.contextmanager
def serve_registry(
    registry: CollectorRegistry, host: str, port: int | None
) -> Iterator[MetricsEndpoint | None]:
    """Serve ``registry`` at ``http://host:port/metrics`` (None: not served) until the end.

    Yields the endpoint (port 0 becomes the port bound), or None when not served.

    Raises:
        ConfigError: the address cannot be bound (in use, not this machine's).
    """
    if port is None:
        yield None
        return
    try:
        server, thread = start_http_server(port, host, registry)
    except OSError as exc:
        raise ConfigError(
            f"monitoring.metrics_port: cannot serve /metrics on {host}:{port}: "
            f"{exc.strerror or exc}. Choose a free port (0 picks one) or stop what uses it"
        ) from None
    endpoint = MetricsEndpoint(host, server.server_port)
    log.info("metrics served", url=endpoint.url)
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.asynccontextmanager
async def serve_metrics(
    collector: MetricsCollector, host: str, port: int | None, interval_s: float
) -> AsyncIterator[MetricsEndpoint | None]:
    """Serve ``collector`` at ``host:port`` (None: not served) and log it every ``interval_s``.

    Yields the endpoint (port 0 becomes the port bound), or None when not served.

    Raises:
        ConfigError: the address cannot be bound (in use, not this machine's).
    """
    with serve_registry(collector.registry, host, port) as endpoint:
        task = asyncio.create_task(_log_every(collector, interval_s))
        try:
            yield endpoint
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
