"""A small exhaustive grid search: the in-sample optimiser of ``tradebot walk-forward``.

Walk-forward takes any ``optimise(train_candles) -> params`` callable; this one tries every
point of a grid through the real Backtester and keeps the best by the objective, with a
minimum trade count (a parameter set that trades once is a coin toss, not a result).
Points the strategy refuses (``fast_period >= slow_period``) are skipped and counted.
Every evaluated point stays in ``trials`` with its per-bar returns: the trials × time
matrix that PBO and the deflated Sharpe ratio need.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradebot.config import Config
from tradebot.domain.decisions import MetadataValue
from tradebot.domain.errors import ConfigError
from tradebot.research.evaluation import Evaluation, Objective, Params, evaluate

Grid = Mapping[str, Sequence[MetadataValue]]

DEFAULT_GRIDS: Mapping[str, Grid] = {
    "ema_crossover": {"fast_period": (5, 8, 12, 16, 20), "slow_period": (26, 40, 60, 90)},
    "rsi_mean_reversion": {"rsi_period": (7, 14, 21), "oversold": (20.0, 25.0, 30.0, 35.0)},
    "breakout": {"period": (10, 20, 40, 60), "exit_period": (5, 10, 20)},
}
"""Grids for the built-in strategies, about twenty points each, around their defaults."""


def grid_points(grid: Grid) -> list[dict[str, MetadataValue]]:
    """Every combination of the grid's values, in the order the grid lists them."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def default_grid(strategy: str) -> Grid:
    """The built-in grid for ``strategy``.

    Raises:
        ConfigError: the strategy has no built-in grid (give one with ``--grid``).
    """
    if strategy not in DEFAULT_GRIDS:
        msg = (
            f"no built-in parameter grid for strategy {strategy!r}: give one with"
            " --grid name=v1,v2,... (one per parameter)"
        )
        raise ConfigError(msg)
    return DEFAULT_GRIDS[strategy]


@dataclass(frozen=True, slots=True)
class Trial:
    """One evaluated grid point: its objective (None: undefined or too few trades)."""

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
    objective: Objective = Objective.SHARPE
    min_trades: int = 3
    fixed: Mapping[str, MetadataValue] = field(default_factory=dict)
    trials: list[Trial] = field(default_factory=list)
    refused: int = 0

    def __call__(self, train: pd.DataFrame) -> dict[str, MetadataValue]:
        """The best point on ``train``.

        Raises:
            ConfigError: the strategy refused every point, or no point traded
                ``min_trades`` times.
        """
        self.run(train)
        scored = [t for t in self.trials if t.value is not None]
        if not scored:
            msg = (
                f"no parameter set of the grid made {self.min_trades} trades with a defined"
                f" {self.objective.field} on {len(train):,} bars ({len(self.trials)} tried,"
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
        for point in grid_points(self.grid):
            params: Params = {**self.fixed, **point}
            try:
                evaluation = evaluate(self.config, candles, params)
            except ConfigError as e:
                self.refused += 1
                errors.append(str(e))
                continue
            value = self.objective.of(evaluation.metrics)
            if evaluation.metrics.total_trades < self.min_trades:
                value = None
            self.trials.append(Trial(evaluation, value))
        if not self.trials:
            msg = f"the strategy refused every point of the grid; the first: {errors[0]}"
            raise ConfigError(msg)
        return self.trials

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
