"""Prometheus metrics of the event bus, served by ``tradebot serve monitor``.

The monitor is the one service an operator watches, so it exports the whole bus as the
server holds it: each stream's length, and for each consumer group what it holds
unacknowledged (``pending``), what it has not read yet (``lag``) and how many of its pending
messages were delivered more than once (being retried); plus the service alerts it raised
by type (``SignalTooOld``: a signal the execution did not trade, too old; ``MessageParked``:
a message given up on). Each scrape reads the bus afresh on the monitor's event loop (the
scrape runs in prometheus-client's thread); a bus that does not answer within
``timeout_s`` is exported as ``tradebot_bus_up 0``. What the bus holds is read by the
services package (``services/metrics.py``), which this one does not import.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tradebot.domain.errors import TradebotError

log = structlog.get_logger("tradebot.metrics")


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One consumer group of one stream (``lag`` None: the server cannot tell)."""

    stream: str
    group: str
    pending: int
    lag: int | None
    redelivered: int


@dataclass(frozen=True, slots=True)
class BusStats:
    """The streams' lengths and the groups, as one scrape found them."""

    lengths: Mapping[str, int]
    groups: Sequence[GroupStats]


BusReader = Callable[[], Coroutine[Any, Any, BusStats]]


class BusMetrics(Collector):
    """Exports the bus (``read`` on ``loop`` at each scrape) and the alerts raised by type."""

    def __init__(
        self,
        read: BusReader,
        loop: asyncio.AbstractEventLoop,
        raised: Counter[str],
        timeout_s: float = 5.0,
    ) -> None:
        """``raised``: the service alerts raised so far, by type (updated by the monitor)."""
        self._read, self._loop, self._raised, self._timeout_s = read, loop, raised, timeout_s

    def collect(self) -> Iterator[Metric]:
        """The metric families of one scrape (called from the HTTP server's thread)."""
        alerts = CounterMetricFamily(
            "tradebot_bus_alerts_raised",
            "Service alerts the monitor raised, by type (SignalTooOld: a signal not traded).",
            labels=["type"],
        )
        for kind, n in sorted(self._raised.items()):
            alerts.add_metric([kind], n)
        yield alerts
        future = asyncio.run_coroutine_threadsafe(self._read(), self._loop)
        try:
            stats = future.result(self._timeout_s)
        except (TimeoutError, TradebotError) as e:
            future.cancel()
            log.warning("bus metrics not read", error=str(e) or type(e).__name__)
            yield GaugeMetricFamily("tradebot_bus_up", "Whether the bus answered.", value=0)
            return
        yield GaugeMetricFamily("tradebot_bus_up", "Whether the bus answered.", value=1)
        yield from _families(stats)


def bus_registry(read: BusReader, raised: Counter[str]) -> CollectorRegistry:
    """A registry of :class:`BusMetrics` on the running loop (``serve_registry`` serves it)."""
    registry = CollectorRegistry()
    registry.register(BusMetrics(read, asyncio.get_running_loop(), raised))
    return registry


def _families(stats: BusStats) -> Iterator[Metric]:
    length = GaugeMetricFamily(
        "tradebot_bus_stream_length", "Messages a stream holds.", labels=["stream"]
    )
    for stream, n in stats.lengths.items():
        length.add_metric([stream], n)
    labels = ["stream", "group"]
    pending = GaugeMetricFamily(
        "tradebot_bus_group_pending",
        "Messages read by the group, not acknowledged.",
        labels=labels,
    )
    lag = GaugeMetricFamily(
        "tradebot_bus_group_lag", "Messages the group has not read.", labels=labels
    )
    redelivered = GaugeMetricFamily(
        "tradebot_bus_group_redelivered",
        "Pending messages delivered more than once (a handler failing or a consumer dead).",
        labels=labels,
    )
    for g in stats.groups:
        pending.add_metric([g.stream, g.group], g.pending)
        redelivered.add_metric([g.stream, g.group], g.redelivered)
        if g.lag is not None:
            lag.add_metric([g.stream, g.group], g.lag)
    yield from (length, pending, lag, redelivered)
