"""Per-endpoint latency and error counts, kept in memory for the monitoring component.

No metrics library is imported here: monitoring reads ``snapshot()`` and the latency
histograms and exports them however it likes (Prometheus, dashboard). One
``ConnectorMetrics`` belongs to one connector.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds of the latency histogram's buckets; a last bucket holds the slower calls."""
OK = "ok"
"""The outcome of a call that succeeded; a failed call's outcome is its error's class name."""


@dataclass(slots=True)
class LatencyHistogram:
    """Calls counted by latency bucket (``LATENCY_BUCKETS_S``, not cumulative) and their sum."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_S) + 1))
    sum_s: float = 0.0

    def observe(self, latency_s: float) -> None:
        """Count one call that took ``latency_s``."""
        self.counts[bisect.bisect_left(LATENCY_BUCKETS_S, latency_s)] += 1
        self.sum_s += latency_s


@dataclass(slots=True)
class EndpointStats:
    """Call count, error counts by tradebot error type, and latency of one endpoint."""

    calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    total_latency_s: float = 0.0
    max_latency_s: float = 0.0
    last_latency_s: float = 0.0
    latency: dict[str, LatencyHistogram] = field(default_factory=dict)
    """Latency by outcome: ``ok`` or the tradebot error's class name."""

    @property
    def mean_latency_s(self) -> float:
        """Mean latency over all calls (0 before the first)."""
        return self.total_latency_s / self.calls if self.calls else 0.0


@dataclass(slots=True)
class ConnectorMetrics:
    """What the connector did: calls, errors, retries, rate-limit hits, resolved orders."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)

    def record_call(self, endpoint: str, latency_s: float, error: BaseException | None) -> None:
        """Count one HTTP call of ``endpoint`` and its outcome."""
        stats = self.endpoints.setdefault(endpoint, EndpointStats())
        stats.calls += 1
        stats.total_latency_s += latency_s
        stats.last_latency_s = latency_s
        stats.max_latency_s = max(stats.max_latency_s, latency_s)
        outcome = OK if error is None else type(error).__name__
        stats.latency.setdefault(outcome, LatencyHistogram()).observe(latency_s)
        if error is not None:
            stats.errors[outcome] += 1

    def count(self, event: str, n: int = 1) -> None:
        """Count a named event: ``retry``, ``rate_limited``, ``banned``, ``order_unknown``..."""
        self.events[event] += n

    @property
    def calls(self) -> int:
        """HTTP calls made over all endpoints."""
        return sum(s.calls for s in self.endpoints.values())

    def errors_of(self, error_type: str) -> int:
        """How many calls over all endpoints failed with ``error_type`` (a class name)."""
        return sum(s.errors[error_type] for s in self.endpoints.values())

    def snapshot(self) -> dict[str, dict[str, float]]:
        """A plain copy: endpoint → {calls, errors, mean/max latency}, plus ``events``."""
        result: dict[str, dict[str, float]] = {
            name: {
                "calls": s.calls,
                "errors": sum(s.errors.values()),
                "mean_latency_s": s.mean_latency_s,
                "max_latency_s": s.max_latency_s,
            }
            for name, s in self.endpoints.items()
        }
        result["events"] = {k: float(v) for k, v in self.events.items()}
        return result
