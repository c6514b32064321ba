"""One trial: the strategy's parameters in, the real Backtester run, scores and metrics out.

A ``TrialRunner`` is built once per worker from a small ``TrialSpec`` (the config and the
texts of the objectives and constraints) and the candles it maps from a shared file; then
each trial sends only its number and parameters, and gets back a small ``TrialOutcome``.
Trials run ``tradebot.backtest.session.simulate``: the engine, risk checks and simulated
venue of every backtest, which are the ones that trade live.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.session import simulate
from tradebot.config import Config, with_overrides
from tradebot.domain.errors import ConfigError, StrategyError
from tradebot.research.objectives import parse_constraint, parse_objective

ParamValue = str | int | float | bool
Params = Mapping[str, ParamValue]
MetricValue = float | int | None
_DAY_MS = 86_400_000
COLLECT_AFTER_BARS = 40_000
"""From this many bars on, a trial's garbage is collected as soon as it ends."""


@dataclass(frozen=True, slots=True)
class TrialSpec:
    """What every worker needs once: the config, where trading starts, what to score."""

    config: Config
    start_index: int
    objectives: tuple[str, ...]
    constraints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    """A finished trial; ``values`` is None when it could not be scored (``error`` says why).

    ``daily_returns`` are the equity's returns day by day (UTC), for the overfitting
    statistics that compare trials over the same time slices.
    """

    number: int
    values: tuple[float, ...] | None
    violations: tuple[float, ...]
    metrics: Mapping[str, MetricValue]
    daily_returns: tuple[float, ...]
    error: str | None
    cpu_s: float


class TrialRunner:
    """Backtests parameter sets over one set of candles."""

    def __init__(self, spec: TrialSpec, candles: pd.DataFrame) -> None:
        """Resolve the objectives and constraints here, where the trials run.

        Raises:
            ConfigError: an objective or constraint cannot be resolved.
        """
        self.spec = spec
        self.candles = candles
        self.objectives = tuple(parse_objective(o) for o in spec.objectives)
        self.constraints = tuple(parse_constraint(c) for c in spec.constraints)
        self._fixed = dict(spec.config.strategy.params)
        # Scored on metrics and equity: decisions and fills are kept only for a user
        # function, which may read them.
        self._records = any(o.reads_result for o in self.objectives)
        # A backtest leaves its engine, orders and ledger in reference cycles that only a
        # full collection frees: on long data tens of MB a trial, held until the collector
        # next runs, so a worker's peak grew by several trials' garbage. On short data the
        # collection would cost more than the garbage.
        self._collect = len(candles) >= COLLECT_AFTER_BARS

    def run(self, number: int, params: Params) -> TrialOutcome:
        """Backtest ``params`` (over the config's fixed parameters) and score the result."""
        started = time.process_time()
        try:
            config = with_overrides(
                self.spec.config, {"strategy.params": {**self._fixed, **params}}, f"trial {number}"
            )
            result = simulate(
                config, self.candles, start_index=self.spec.start_index, keep_records=self._records
            )[0]
        except (ConfigError, StrategyError) as e:
            return self._failed(number, f"{type(e).__name__}: {e}", started)
        if self._collect:
            # the engine is garbage now, its strategy's indicator columns with it: free
            # them before scoring, which makes temporaries of its own
            gc.collect()
        result = result.from_bar(self.spec.start_index)
        metrics = compute_metrics(result)
        return self._scored(number, result, metrics, started)

    def _scored(
        self, number: int, result: BacktestResult, metrics: PerformanceMetrics, started: float
    ) -> TrialOutcome:
        values: list[float] = []
        for objective in self.objectives:
            value = objective.measure(metrics, result)
            if value is None or not math.isfinite(value):
                why = f"{objective.label} is undefined ({metrics.total_trades} trades)"
                return self._failed(number, why, started, metrics.to_dict())
            values.append(value)
        return TrialOutcome(
            number,
            tuple(values),
            tuple(c.violation(metrics) for c in self.constraints),
            metrics.to_dict(),
            daily_returns(result),
            None,
            time.process_time() - started,
        )

    def _failed(
        self,
        number: int,
        error: str,
        started: float,
        metrics: Mapping[str, MetricValue] | None = None,
    ) -> TrialOutcome:
        violations = tuple(1.0 for _ in self.constraints)
        cpu_s = time.process_time() - started
        return TrialOutcome(number, None, violations, metrics or {}, (), error, cpu_s)


def daily_returns(result: BacktestResult) -> tuple[float, ...]:
    """Returns of the equity from one UTC day's last close to the next (the first day's
    from the starting cash)."""
    if result.n_bars == 0:
        return ()
    ts = result.ts_ms
    # each day's last bar, found by bisecting the (sorted) times at the midnights that end
    # the days: no temporary as long as the bars (three of them took 47 MB on 2M bars)
    midnights = np.arange(ts[0] // _DAY_MS + 1, ts[-1] // _DAY_MS + 2, dtype=np.int64) * _DAY_MS
    ends = np.searchsorted(ts, midnights, side="left")
    last_of_day = np.unique(ends[ends > 0]) - 1
    closes = np.concatenate(([result.starting_cash], result.equity[last_of_day]))
    return tuple(float(r) for r in np.diff(closes) / closes[:-1])
