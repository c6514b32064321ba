"""What the bus holds, read for the monitor's Prometheus metrics (``monitoring/bus_metrics.py``)."""

from __future__ import annotations

from tradebot.monitoring.bus_metrics import BusStats, GroupStats
from tradebot.services.bus import EventBus, Family


async def bus_stats(bus: EventBus) -> BusStats:
    """Every family's length and consumer groups (one pending list read a group that has
    messages pending, to count those delivered more than once)."""
    lengths, groups = {}, []
    for family in Family:
        lengths[family.value] = await bus.length(family)
        for info in await bus.groups(family):
            pending = await bus.pending(family, info.name) if info.pending else []
            redelivered = sum(p.deliveries > 1 for p in pending)
            groups.append(GroupStats(family.value, info.name, info.pending, info.lag, redelivered))
    return BusStats(lengths, groups)
