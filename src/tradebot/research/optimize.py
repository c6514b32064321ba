"""The optimisation driver: Optuna proposes parameters, the backend backtests them.

Why rounds: Optuna's own parallel mode lets whichever worker finishes first shape the next
proposal, so two workers find other parameters than one. Here the driver alone talks to the
study. It asks for a *round* of ``round_size`` trials, the backend runs them on however many
workers it has, and the driver tells the study the outcomes in trial-number order. Rounds
start at multiples of ``round_size`` and the sampler is seeded with ``seed + trial number``
before each proposal, so a proposal depends only on the trials before its round and on its
number: ``-j1`` and ``-j2`` propose, and find, the same. A stop leaves the round's trials
asked but not told (RUNNING, with their parameters stored); the next run asks what the round
still lacks, runs the open trials and tells them, so a study stopped and resumed ends where
one run straight through ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState

from tradebot.domain.errors import ConfigError
from tradebot.research.backends import TrialBackend
from tradebot.research.objectives import Objective
from tradebot.research.trial import TrialOutcome
from tradebot.strategy.space import Choice, Dimension, IntRange, describe

SamplerName = Literal["tpe", "nsga2", "random"]
Trial = FrozenTrial
"""A finished (or open) trial as the study stores it: its number, params, values, attrs."""
Progress = Callable[[Trial, int, int], None]
SETUP_KEY = "tradebot_setup"


@dataclass(frozen=True, slots=True)
class StudyPlan:
    """How to search: the study's name, how many trials in all, the seed, the round size.

    ``sampler`` None picks TPE for one objective and NSGA-II for several. ``setup`` is what
    the trials' scores depend on (strategy, data, fixed parameters...): a study resumed
    under another setup is refused, since its old trials would not be comparable.
    """

    name: str
    n_trials: int
    seed: int = 0
    round_size: int = 8
    sampler: SamplerName | None = None
    population: int = 24
    timeout_s: float | None = None
    setup: Mapping[str, object] | None = None


def distributions(space: Mapping[str, Dimension]) -> dict[str, BaseDistribution]:
    """Optuna's distribution for each dimension of ``space``."""
    out: dict[str, BaseDistribution] = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            out[name] = CategoricalDistribution(dim.options)
        elif isinstance(dim, IntRange):
            out[name] = IntDistribution(dim.low, dim.high, log=dim.log, step=dim.step)
        else:
            out[name] = FloatDistribution(dim.low, dim.high, log=dim.log, step=dim.step)
    return out


def make_sampler(kind: SamplerName, seed: int, population: int) -> optuna.samplers.BaseSampler:
    """A fresh sampler seeded with ``seed`` (the study's seed plus the trial's number).

    Constraints reach the samplers through each trial's ``set_constraint`` values.
    """
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=population, seed=seed)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


class StudyRunner:
    """Runs a plan's rounds on a backend against an Optuna study in a storage."""

    def __init__(
        self,
        plan: StudyPlan,
        objectives: Sequence[Objective],
        space: Mapping[str, Dimension],
        constraints: Sequence[str],
        storage: optuna.storages.BaseStorage,
    ) -> None:
        """Open (or create) the study and check it was run with this setup.

        Raises:
            ConfigError: the stored study has other objectives or another setup.
        """
        self.plan = plan
        self.objectives = tuple(objectives)
        self.space = dict(space)
        self.constraints = tuple(constraints)
        self.sampler: SamplerName = plan.sampler or ("tpe" if len(objectives) == 1 else "nsga2")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(
            storage=storage,
            study_name=plan.name,
            directions=[o.direction for o in objectives],
            load_if_exists=True,
        )
        self._check_setup()
        self._distributions = distributions(space)

    def setup(self) -> dict[str, object]:
        """What the stored study must agree with to be resumed."""
        return {
            **(self.plan.setup or {}),
            "objectives": [o.spec for o in self.objectives],
            "space": {k: describe(v) for k, v in self.space.items()},
            "sampler": self.sampler,
            "seed": self.plan.seed,
            "round_size": self.plan.round_size,
            "population": self.plan.population if self.sampler == "nsga2" else None,
        }

    def _check_setup(self) -> None:
        wanted = json.loads(json.dumps(self.setup(), default=str))
        stored = self.study.user_attrs.get(SETUP_KEY)
        if stored is None:
            self.study.set_user_attr(SETUP_KEY, wanted)
            return
        differs = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
        if differs:
            detail = "; ".join(
                f"{k}: {stored.get(k)!r} then, {wanted.get(k)!r} now" for k in differs
            )
            raise ConfigError(
                f"study {self.plan.name!r} was run with another setup ({detail}): run it "
                "with the same settings to resume it, or give a new --study name"
            )

    def run(self, backend: TrialBackend, progress: Progress | None = None) -> int:
        """Run rounds until the study holds ``n_trials`` finished trials (or the timeout
        passes at the end of a round); return how many trials this call ran."""
        started = time.monotonic()
        ran = 0
        while True:
            batch = self._round()
            if not batch:
                return ran
            outcomes = backend.run([(t.number, t.params) for t in batch])
            for trial, outcome in zip(batch, outcomes, strict=True):
                frozen = self._tell(trial, outcome)
                ran += 1
                if progress is not None:
                    progress(frozen, trial.number + 1, self.plan.n_trials)
            timeout = self.plan.timeout_s
            if timeout is not None and time.monotonic() - started >= timeout:
                return ran

    def _round(self) -> list[FrozenTrial]:
        # The open trials of the current round, after asking for the ones it still lacks.
        trials = self.study.get_trials(deepcopy=False)
        running = [t for t in trials if t.state == TrialState.RUNNING]
        size = self.plan.round_size
        first = min((t.number for t in running), default=len(trials))
        end = min((first // size + 1) * size, self.plan.n_trials)
        end = max(end, max((t.number + 1 for t in running), default=0))
        for number in range(len(trials), end):
            seed = self.plan.seed + number
            self.study.sampler = make_sampler(self.sampler, seed, self.plan.population)
            asked = self.study.ask(self._distributions)
            if asked.number != number:
                raise ConfigError(
                    f"study {self.plan.name!r} got trial {asked.number} while asking for "
                    f"{number}: another process is adding trials to it; run one at a time"
                )
        return [
            t
            for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if t.number < end
        ]

    def _tell(self, trial: FrozenTrial, outcome: TrialOutcome) -> FrozenTrial:
        live = optuna.trial.Trial(self.study, trial._trial_id)
        for constraint, violation in zip(self.constraints, outcome.violations, strict=True):
            live.set_constraint(constraint, violation)
        live.set_user_attr("metrics", dict(outcome.metrics))
        live.set_user_attr("daily_returns", list(outcome.daily_returns))
        live.set_user_attr("cpu_s", outcome.cpu_s)
        if outcome.values is None:
            live.set_user_attr("error", outcome.error)
            return self.study.tell(live, state=TrialState.FAIL)
        return self.study.tell(live, list(outcome.values))


def is_feasible(trial: FrozenTrial) -> bool:
    """Whether a finished trial met every constraint."""
    return trial.state == TrialState.COMPLETE and all(v <= 0 for v in trial.constraints.values())


@dataclass(frozen=True, slots=True)
class TrialCounts:
    """How the study's trials ended."""

    total: int
    feasible: int
    outside_constraints: int
    failed: int


def count_trials(study: optuna.Study) -> TrialCounts:
    """Count the study's trials by how they ended."""
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    feasible = sum(is_feasible(t) for t in complete)
    failed = sum(t.state == TrialState.FAIL for t in trials)
    return TrialCounts(len(trials), feasible, len(complete) - feasible, failed)


def best_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The best feasible trial (one objective; ties go to the earlier trial) or the Pareto
    front of the feasible trials (several), in trial-number order."""
    feasible = [t for t in study.get_trials(deepcopy=False) if is_feasible(t)]
    signs = [1.0 if d == optuna.study.StudyDirection.MAXIMIZE else -1.0 for d in study.directions]
    scored = [(t, [s * v for s, v in zip(signs, t.values, strict=True)]) for t in feasible]
    if len(signs) == 1:
        best = max(scored, key=lambda pair: (pair[1][0], -pair[0].number), default=None)
        return [] if best is None else [best[0]]
    return [t for t, v in scored if not any(_dominates(w, v) for _, w in scored)]


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )
