"""A small exhaustive grid search: the default in-sample optimiser of ``tradebot walk-forward``.

Walk-forward takes any ``optimise(train_candles) -> params`` callable; this one tries every
point of a grid through the real Backtester and keeps the best by the objective (the
objectives of ``tradebot optimize``: ``research/objectives.py``), among the points with a
minimum trade count (a parameter set that trades once is a coin toss, not a result).
Points the strategy refuses (``fast_period >= slow_period``) are skipped and counted.
Every evaluated point is kept with its per-bar returns: the trials × time matrix that PBO
and the deflated Sharpe ratio need (``trial_set``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradebot.config import Config
from tradebot.domain.decisions import MetadataValue
from tradebot.domain.errors import ConfigError
from tradebot.research.evaluation import Evaluation, Params, TrialSet, evaluate
from tradebot.research.objectives import Objective, parse_objective
from tradebot.strategy.registry import resolve_strategy
from tradebot.strategy.space import Choice, Dimension, IntRange, declared_space

Grid = Mapping[str, Sequence[MetadataValue]]
MAX_GRID_POINTS = 100
POINTS_PER_RANGE = 4

DEFAULT_GRIDS: Mapping[str, Grid] = {
    "ema_crossover": {"fast_period": (5, 8, 12, 16, 20), "slow_period": (26, 40, 60, 90)},
    "rsi_mean_reversion": {"rsi_period": (7, 14, 21), "oversold": (20.0, 25.0, 30.0, 35.0)},
    "breakout": {"period": (10, 20, 40, 60), "exit_period": (5, 10, 20)},
}
"""Grids for the built-in strategies: their two main parameters, about twenty points each
(their declared spaces have more dimensions than a grid can afford)."""


def grid_points(grid: Grid) -> list[dict[str, MetadataValue]]:
    """Every combination of the grid's values, in the order the grid lists them."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def default_grid(strategy: str, fixed: Sequence[str] = ()) -> Grid:
    """The built-in grid of a built-in strategy, else one from the strategy's declared
    parameter space (``strategy/space.py``): ``POINTS_PER_RANGE`` values across each range
    (evenly in log for a log range), every option of a choice, less the ``fixed`` names.

    Raises:
        ConfigError: the strategy declares no space, or its grid would pass
            ``MAX_GRID_POINTS`` points (give one with ``--grid``).
    """
    if strategy in DEFAULT_GRIDS:
        return {k: v for k, v in DEFAULT_GRIDS[strategy].items() if k not in fixed}
    space = {k: v for k, v in declared_space(resolve_strategy(strategy)).items() if k not in fixed}
    grid = {name: _values(dim) for name, dim in space.items()}
    size = math.prod(len(v) for v in grid.values())
    if not grid or size > MAX_GRID_POINTS:
        what = "declares no parameter space" if not grid else f"would make a {size}-point grid"
        msg = (
            f"strategy {strategy!r} {what}: give a grid with --grid name=v1,v2,... (one per"
            " searched parameter)"
        )
        raise ConfigError(msg)
    return grid


def _values(dim: Dimension) -> list[MetadataValue]:
    if isinstance(dim, Choice):
        return list(dim.options)
    spaced = np.geomspace if dim.log else np.linspace
    raw = spaced(dim.low, dim.high, POINTS_PER_RANGE)
    if isinstance(dim, IntRange):
        ints: list[MetadataValue] = [*sorted({round(float(v)) for v in raw})]
        return ints
    return [round(float(v), 6) for v in raw]


@dataclass(frozen=True, slots=True)
class Trial:
    """One evaluated grid point: its score (higher is better; None: undefined or too few
    trades)."""

    evaluation: Evaluation
    value: float | None


@dataclass(slots=True)
class GridSearch:
    """``optimise(train_candles) -> params`` by trying every point of ``grid``.

    ``fixed`` parameters are passed with every point. After a call, ``trials`` holds that
    call's evaluated points and ``refused`` how many points the strategy refused.
    """

    config: Config
    grid: Grid
    objective: str = "sharpe"
    min_trades: int = 3
    fixed: Mapping[str, MetadataValue] = field(default_factory=dict)
    trials: list[Trial] = field(default_factory=list)
    refused: int = 0
    _objective: Objective = field(init=False)

    def __post_init__(self) -> None:
        """Resolve the objective now, so a bad one fails before any backtest.

        Raises:
            ConfigError: an unknown objective (see ``parse_objective``).
        """
        self._objective = parse_objective(self.objective)

    def __call__(self, train: pd.DataFrame) -> dict[str, MetadataValue]:
        """The best point on ``train``.

        Raises:
            ConfigError: the strategy refused every point, or no point traded
                ``min_trades`` times with a defined objective.
        """
        self.run(train)
        scored = [t for t in self.trials if t.value is not None]
        if not scored:
            msg = (
                f"no parameter set of the grid made {self.min_trades} trades with a defined"
                f" {self._objective.label} on {len(train):,} bars ({len(self.trials)} tried,"
                f" {self.refused} refused): use a longer in-sample window or another grid"
            )
            raise ConfigError(msg)
        best = max(scored, key=lambda t: t.value if t.value is not None else -np.inf)
        return best.evaluation.params

    def run(self, candles: pd.DataFrame) -> list[Trial]:
        """Evaluate every point on ``candles`` (kept in ``trials``) and return them.

        Raises:
            ConfigError: the strategy refused every point.
        """
        self.trials, self.refused = [], 0
        errors: list[str] = []
        sign = -1.0 if self._objective.direction == "minimize" else 1.0
        for point in grid_points(self.grid):
            params: Params = {**self.fixed, **point}
            try:
                evaluation = evaluate(self.config, candles, params)
            except ConfigError as e:
                self.refused += 1
                errors.append(str(e))
                continue
            value = self._objective.measure(evaluation.metrics, evaluation.result)
            if value is None or not math.isfinite(value):
                value = None
            if evaluation.metrics.total_trades < self.min_trades:
                value = None
            self.trials.append(Trial(evaluation, None if value is None else sign * value))
        if not self.trials:
            msg = f"the strategy refused every point of the grid; the first: {errors[0]}"
            raise ConfigError(msg)
        return self.trials

    def trial_set(self, candles: pd.DataFrame) -> TrialSet:
        """Run every point on ``candles``: their table and per-bar returns."""
        self.run(candles)
        return TrialSet(
            self.table(), tuple(self.grid), self.returns_matrix(), "bar", len(self.trials)
        )

    def table(self) -> pd.DataFrame:
        """The trials as one row each: the grid's parameters, ``value`` and ``trades``."""
        return pd.DataFrame(
            [
                {
                    **{k: t.evaluation.params[k] for k in self.grid},
                    "value": t.value,
                    "trades": t.evaluation.metrics.total_trades,
                }
                for t in self.trials
            ]
        )

    def returns_matrix(self) -> np.ndarray[tuple[int, int], np.dtype[np.float64]]:
        """Bars × trials per-bar returns of the last run (every trial, scored or not)."""
        return np.column_stack([t.evaluation.returns() for t in self.trials])
