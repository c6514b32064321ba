"""MetricsCollector: the running bot's numbers in Prometheus's terms (design II.8.A).

Two sources, neither inside the engine:

* the database, read at each scrape (``FiguresReader``): equity, cash, PnL, drawdown,
  positions and exposure per symbol, trades, win rate, kill switch, orders by status,
  reconciliation discrepancies;
* what the running bot reports: the ``BotObserver`` calls (cycle time and overruns, order
  fill time, candle age), ``BotStats`` (cycles, errors) and each connector's
  ``ConnectorMetrics`` (request latency by method and outcome, errors by class — 429 is
  ``RateLimited``, 418 ``IpBanned`` — retries, websocket drops).

Every metric is named ``tradebot_*``; docs/monitoring.md lists them, and a test holds the
shipped Grafana dashboard and alert rules (deploy/) to the names a running bot exports.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from tradebot.domain.commands import PlaceOrder, Step
from tradebot.domain.market import timeframe_to_ms
from tradebot.domain.orders import OrderStatus
from tradebot.exchange.ccxt.metrics import (
    LATENCY_BUCKETS_S,
    ConnectorMetrics,
    EndpointStats,
    LatencyHistogram,
)
from tradebot.monitoring.figures import Figures, FiguresReader
from tradebot.orchestrator.trade_log import BotStats
from tradebot.state import KillSwitchLevel, Repository

CYCLE_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
FILL_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0, 86400.0)
_WS_DROP = "ws_drop."


class MetricsCollector:
    """Collects the bot's metrics into its own registry; a ``BotObserver`` for ``TradingBot``.

    Give it a repository with a database connection of its own: scrapes read it from the
    HTTP server's thread.
    """

    def __init__(
        self,
        repo: Repository,
        *,
        symbols: Sequence[str],
        timeframe: str,
        cycle_budget_s: float,
        connectors: Sequence[ConnectorMetrics] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Watch the bot trading ``symbols`` at ``timeframe``.

        A decision cycle longer than ``cycle_budget_s`` (the poll interval) counts as an
        overrun: the bot fell behind its own schedule.
        """
        self.registry = CollectorRegistry()
        self.figures = FiguresReader(repo)
        self.connectors = list(connectors)
        self.stats: BotStats | None = None
        self.symbols, self.timeframe = tuple(symbols), timeframe
        self._budget_s = cycle_budget_s
        self._clock = clock
        self.started_s = clock()
        # Per symbol: the newest candle close seen, and when (this machine's clock) it was.
        self._newest_close: dict[str, tuple[int, float]] = {}
        self._saved_at: dict[str, float] = {}
        reg = self.registry
        self._cycles = Histogram(
            "tradebot_decision_cycle_duration_seconds",
            "Time one decision cycle took: sync with the venue, decide, save, send.",
            buckets=CYCLE_BUCKETS_S,
            registry=reg,
        )
        self._overruns = Counter(
            "tradebot_decision_cycle_overruns",
            "Decision cycles that took longer than the poll interval.",
            registry=reg,
        )
        self._fill_time = Histogram(
            "tradebot_order_fill_duration_seconds",
            "From an order's intent being saved to its complete fill being booked, by type.",
            ["type"],
            buckets=FILL_BUCKETS_S,
            registry=reg,
        )
        self._sent = Counter(
            "tradebot_orders_sent",
            "Orders the venue accepted, by side and type.",
            ["side", "type"],
            registry=reg,
        )
        reg.register(_Exporter(self))

    def render(self) -> bytes:
        """The metrics in Prometheus's text format (what ``/metrics`` serves)."""
        return generate_latest(self.registry)

    # ------------------------------------------------------------------- BotObserver
    def on_candles(self, venue_now_ms: int, newest_close_ms: Mapping[str, int]) -> None:
        """Note, per symbol, when a newer candle closed, on this machine's clock.

        The venue's clock is not used: the paper sandbox replays old bars under today's
        server time, where every candle would look a year old. Each symbol keeps its own
        age, so one market whose candles stop shows while the others flow.
        """
        now = self._clock()
        for symbol, close_ms in newest_close_ms.items():
            seen = self._newest_close.get(symbol)
            if seen is None or close_ms > seen[0]:
                self._newest_close[symbol] = (close_ms, now)

    def on_cycle(self, bar_ts_ms: int, duration_s: float) -> None:
        """Time a decision cycle; count it as an overrun past the budget."""
        self._cycles.observe(duration_s)
        if duration_s > self._budget_s:
            self._overruns.inc()

    def on_order_sent(self, order: PlaceOrder) -> None:
        """Count an accepted order."""
        self._sent.labels(order.side.value, order.type.value).inc()

    def on_saved(self, step: Step, trade_ids: Sequence[int]) -> None:
        """Start an order's fill clock at its saved intent; stop it at its complete fill."""
        now = self._clock()
        for order in step.orders:
            started = self._saved_at.get(order.client_order_id)
            if order.status is OrderStatus.FILLED and started is not None:
                self._fill_time.labels(order.type.value).observe(now - started)
            if order.status.is_terminal:
                self._saved_at.pop(order.client_order_id, None)
            elif started is None:
                self._saved_at[order.client_order_id] = now

    # ------------------------------------------------------------------- readings
    def candle_age_s(self, symbol: str) -> float | None:
        """Seconds since the bot last saw a new candle of ``symbol`` close (None before the
        first one).

        Stays under one bar plus the poll interval while data flows; grows while the
        exchange cannot be reached or stops publishing the market's candles.
        """
        seen = self._newest_close.get(symbol)
        return None if seen is None else self._clock() - seen[1]

    def uptime_s(self) -> float:
        """Seconds since the collector (and the bot with it) started."""
        return self._clock() - self.started_s


class _Exporter(Collector):
    """Turns figures, bot stats and connector metrics into metric families at each scrape."""

    def __init__(self, owner: MetricsCollector) -> None:
        self._owner = owner

    def collect(self) -> Iterator[Metric]:
        owner = self._owner
        yield from _account(owner.figures.read())
        yield from _exchange(owner.connectors)
        yield from _bot(owner)


def _gauge(name: str, doc: str, value: float | Decimal) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def _account(f: Figures) -> Iterator[Metric]:
    snap = f.snapshot
    if snap is not None:
        yield _gauge("tradebot_equity", "Account equity at the last bar (quote).", snap.equity)
        yield _gauge("tradebot_cash", "Quote cash at the last bar.", snap.cash)
        yield _gauge("tradebot_peak_equity", "Highest equity saved (quote).", f.peak_equity)
        yield _gauge("tradebot_drawdown_ratio", "Fall from peak equity (0.1 = 10 %).", f.drawdown)
        yield _gauge(
            "tradebot_last_bar_timestamp_seconds", "Venue time of the last bar.", snap.ts_ms / 1000
        )
    if f.daily_pnl is not None:
        yield _gauge("tradebot_daily_pnl", "Equity change since the UTC day began.", f.daily_pnl)
    yield _gauge("tradebot_unrealised_pnl", "Open positions at mark less cost.", f.unrealised_pnl)
    qty = GaugeMetricFamily("tradebot_position_qty", "Amount held (base).", labels=["symbol"])
    exposure = GaugeMetricFamily(
        "tradebot_exposure", "Value of the position at the last mark (quote).", labels=["symbol"]
    )
    for symbol, holding in sorted(f.holdings.items()):
        qty.add_metric([symbol], float(holding.qty))
        exposure.add_metric([symbol], float(holding.exposure))
    yield qty
    yield exposure
    yield _gauge("tradebot_open_positions", "Symbols with an open position.", len(f.holdings))
    yield _gauge(
        "tradebot_trades_today", "Trades closed this UTC day (venue time).", f.trades_today
    )
    yield CounterMetricFamily("tradebot_trades_closed", "Round trips closed.", value=f.trades)
    yield CounterMetricFamily("tradebot_trades_won", "Round trips with net PnL > 0.", value=f.wins)
    if f.win_rate is not None:
        yield _gauge("tradebot_win_rate_ratio", "Share of closed trades won.", f.win_rate)
    switch = GaugeMetricFamily(
        "tradebot_kill_switch", "1 for the kill switch's current state.", labels=["state"]
    )
    for level in KillSwitchLevel:
        switch.add_metric([level.value], 1.0 if level is f.kill_switch else 0.0)
    yield switch
    orders = GaugeMetricFamily("tradebot_orders", "Saved orders by status.", labels=["status"])
    for status in OrderStatus:
        orders.add_metric([status.value], float(f.orders.get(status, 0)))
    yield orders
    found = CounterMetricFamily(
        "tradebot_reconciliation_discrepancies",
        "Differences found between saved state and the venue, by kind.",
        labels=["kind"],
    )
    for kind, n in sorted(f.discrepancies.items()):
        found.add_metric([kind], n)
    yield found


def _merged(connectors: Sequence[ConnectorMetrics]) -> ConnectorMetrics:
    # The bot's connector and the trade recorder's: one set of series, summed.
    merged = ConnectorMetrics()
    for metrics in connectors:
        merged.events.update(dict(metrics.events))
        for method, stats in list(metrics.endpoints.items()):
            into = merged.endpoints.setdefault(method, EndpointStats())
            into.errors.update(dict(stats.errors))
            for outcome, histogram in list(stats.latency.items()):
                total = into.latency.setdefault(outcome, LatencyHistogram())
                total.counts = [a + b for a, b in zip(total.counts, histogram.counts, strict=True)]
                total.sum_s += histogram.sum_s
    return merged


def _latency_family(merged: ConnectorMetrics) -> HistogramMetricFamily:
    latency = HistogramMetricFamily(
        "tradebot_exchange_request_duration_seconds",
        "Exchange REST call latency by method and outcome (ok or the error's class).",
        labels=["method", "outcome"],
    )
    bounds = [str(b) for b in LATENCY_BUCKETS_S] + ["+Inf"]
    for method, stats in sorted(merged.endpoints.items()):
        for outcome, histogram in sorted(stats.latency.items()):
            cumulative = list(itertools.accumulate(float(n) for n in histogram.counts))
            latency.add_metric(
                [method, outcome], list(zip(bounds, cumulative, strict=True)), histogram.sum_s
            )
    return latency


def _exchange(connectors: Sequence[ConnectorMetrics]) -> Iterator[Metric]:
    merged = _merged(connectors)
    errors = CounterMetricFamily(
        "tradebot_exchange_errors",
        "Failed exchange calls by method and error class (RateLimited = 429, IpBanned = 418).",
        labels=["method", "error"],
    )
    for method, stats in sorted(merged.endpoints.items()):
        for error, n in sorted(stats.errors.items()):
            errors.add_metric([method, error], n)
    events = CounterMetricFamily(
        "tradebot_exchange_events",
        "Connector events: retry, rate_limited (429), banned (418), order_unknown...",
        labels=["event"],
    )
    reconnects = CounterMetricFamily(
        "tradebot_websocket_reconnects",
        "Websocket streams that dropped and were reconnected, by stream.",
        labels=["stream"],
    )
    for event, n in sorted(merged.events.items()):
        if event.startswith(_WS_DROP):
            reconnects.add_metric([event.removeprefix(_WS_DROP)], n)
        else:
            events.add_metric([event], n)
    yield from (_latency_family(merged), errors, events, reconnects)


def _bot(owner: MetricsCollector) -> Iterator[Metric]:
    stats = owner.stats or BotStats()
    yield CounterMetricFamily("tradebot_cycles", "Decision cycles completed.", value=stats.cycles)
    yield CounterMetricFamily(
        "tradebot_cycle_errors",
        "Polls that failed (exchange down, cycle error).",
        value=stats.errors,
    )
    yield CounterMetricFamily("tradebot_fills", "Fills booked by this run.", value=stats.fills)
    yield _gauge("tradebot_uptime_seconds", "Seconds since the bot started.", owner.uptime_s())
    yield _gauge(
        "tradebot_start_time_seconds", "When the bot started (Unix time).", owner.started_s
    )
    age = GaugeMetricFamily(
        "tradebot_candle_age_seconds",
        "Seconds since the bot last saw a new candle close.",
        labels=["symbol", "timeframe"],
    )
    bar = GaugeMetricFamily(
        "tradebot_timeframe_seconds", "Length of one bar.", labels=["symbol", "timeframe"]
    )
    bar_s = timeframe_to_ms(owner.timeframe) / 1000
    for symbol in owner.symbols:
        candle_age = owner.candle_age_s(symbol)
        if candle_age is not None:
            age.add_metric([symbol, owner.timeframe], candle_age)
        bar.add_metric([symbol, owner.timeframe], bar_s)
    yield age
    yield bar


def metric_names(collector: MetricsCollector) -> set[str]:
    """Every series name ``collector`` can export (histograms with _bucket/_sum/_count)."""
    names: set[str] = set()
    for family in collector.registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names.update(f"{family.name}{s}" for s in ("_bucket", "_sum", "_count"))
    return names
