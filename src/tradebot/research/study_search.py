"""An Optuna study as the in-sample optimiser of a walk-forward: one study per window.

Each in-sample window gets its own study of ``n_trials`` trials over the strategy's
parameter space, run by ``tradebot optimize``'s driver (``optimize.py: StudyRunner``: TPE,
the sampler seeded with seed + trial number, so the same inputs find the same parameters)
on its backends (the window's candles written once to memory-mapped files, ``workers``
processes). Studies live in memory: a walk-forward's studies are a means, not a record.
The best feasible trial's parameters win; ``total_trades >= min_trades`` is a constraint,
as in the grid search.

For the overfitting statistics, ``trial_set`` runs one more study over the whole period and
returns every complete trial with its daily returns (``trial.py: daily_returns``), so PBO
and the deflated Sharpe ratio count every trial the study made.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from tradebot.config import Config, with_overrides
from tradebot.domain.decisions import MetadataValue
from tradebot.domain.errors import ConfigError
from tradebot.research.backends import InProcessBackend, ProcessBackend, TrialBackend
from tradebot.research.candles import write_candles
from tradebot.research.evaluation import TrialSet
from tradebot.research.objectives import parse_objective
from tradebot.research.optimize import StudyPlan, StudyRunner, best_trials, is_feasible
from tradebot.research.trial import TrialSpec
from tradebot.strategy.space import Dimension


@dataclass(slots=True)
class StudySearch:
    """``optimise(train_candles) -> params`` by an in-memory Optuna study per window."""

    config: Config
    space: Mapping[str, Dimension]
    objective: str = "sharpe"
    n_trials: int = 50
    min_trades: int = 3
    seed: int = 0
    workers: int = 1
    fixed: Mapping[str, MetadataValue] = field(default_factory=dict)
    study: optuna.Study | None = None

    def __post_init__(self) -> None:
        """Resolve the objective now, so a bad one fails before any backtest.

        Raises:
            ConfigError: an unknown objective (see ``parse_objective``).
        """
        parse_objective(self.objective)

    def __call__(self, train: pd.DataFrame) -> dict[str, MetadataValue]:
        """The best feasible trial's parameters on ``train``.

        Raises:
            ConfigError: no trial met the objective and the trade constraint.
        """
        study = self._run(train)
        best = best_trials(study)
        if not best:
            msg = (
                f"no trial of {self.n_trials} made {self.min_trades} trades with a defined"
                f" {self.objective} on {len(train):,} bars: use a longer in-sample window"
            )
            raise ConfigError(msg)
        return {**self.fixed, **best[0].params}

    def trial_set(self, candles: pd.DataFrame) -> TrialSet:
        """Run a study over ``candles``: every complete trial and its daily returns."""
        study = self._run(candles)
        sign = -1.0 if study.direction == optuna.study.StudyDirection.MINIMIZE else 1.0
        done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
        rows = [
            {
                **t.params,
                "value": sign * t.values[0] if is_feasible(t) else None,
                "trades": t.user_attrs.get("metrics", {}).get("total_trades"),
            }
            for t in done
        ]
        returns = np.column_stack(
            [np.asarray(t.user_attrs["daily_returns"], dtype=np.float64) for t in done]
        )
        tried = len(study.get_trials(deepcopy=False))
        return TrialSet(pd.DataFrame(rows), tuple(self.space), returns, "day", tried)

    def _run(self, candles: pd.DataFrame) -> optuna.Study:
        config = with_overrides(
            self.config, {"strategy.params": dict(self.fixed)}, "walk-forward study"
        )
        constraints = (f"total_trades>={self.min_trades}",)
        spec = TrialSpec(config, 0, (self.objective,), constraints)
        plan = StudyPlan("walk-forward", self.n_trials, self.seed)
        runner = StudyRunner(
            plan,
            (parse_objective(self.objective),),
            self.space,
            constraints,
            optuna.storages.InMemoryStorage(),
        )
        with tempfile.TemporaryDirectory(prefix="tradebot-walkforward-") as folder:
            candles_dir = write_candles(candles, Path(folder))
            backend: TrialBackend = (
                ProcessBackend(spec, candles_dir, self.workers)
                if self.workers > 1
                else InProcessBackend(spec, candles_dir)
            )
            try:
                runner.run(backend)
            finally:
                backend.close()
        self.study = runner.study
        return runner.study
