"""Run an optimisation as the command line describes it: data, study, workers, result.

The candles are loaded and checked exactly as ``tradebot backtest`` loads them
(``tradebot.backtest.dataset``), written once to memory-mapped files in a temporary folder,
and every worker opens them by path (or Ray's object store holds them once).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import optuna
from optuna.trial import FrozenTrial

from tradebot.backtest.dataset import CONFIG_CHOSEN, BacktestData, Chosen, load_backtest_data
from tradebot.backtest.heap import map_large_blocks
from tradebot.config import Config
from tradebot.domain.errors import ConfigError
from tradebot.research.backends import InProcessBackend, ProcessBackend, TrialBackend
from tradebot.research.candles import write_candles
from tradebot.research.luck import Verdict, judge
from tradebot.research.objectives import Objective, parse_constraint, parse_objective
from tradebot.research.optimize import Progress, StudyPlan, StudyRunner, best_trials
from tradebot.research.storage import close_storage, detached, open_storage
from tradebot.research.trial import TrialSpec
from tradebot.strategy.registry import resolve_strategy
from tradebot.strategy.space import Dimension, space_for

BackendName = Literal["local", "ray"]


@dataclass(frozen=True, slots=True)
class OptimizeRequest:
    """Everything ``tradebot optimize`` was asked for.

    ``config`` holds the strategy and its fixed parameters (``-p``): those are not searched.
    """

    config: Config
    plan: StudyPlan
    objectives: tuple[str, ...] = ("sharpe",)
    constraints: tuple[str, ...] = ()
    space: Mapping[str, Dimension] = field(default_factory=dict)
    workers: int = 1
    backend: BackendName = "local"
    ray_address: str | None = None
    storage: str | None = None
    store: str | None = None
    chosen: Chosen = CONFIG_CHOSEN


@dataclass(frozen=True, slots=True)
class OptimizeRun:
    """A finished (or stopped) optimisation: the study, its best trials, what it searched."""

    study: optuna.Study
    best: list[FrozenTrial]
    objectives: tuple[Objective, ...]
    space: Mapping[str, Dimension]
    storage: str
    ran: int
    wall_s: float
    data: BacktestData
    verdict: Verdict | None = None
    """PBO, deflated Sharpe and stability of the best trial (one objective only)."""


def run_optimization(request: OptimizeRequest, progress: Progress | None = None) -> OptimizeRun:
    """Load the data, open the study and run its remaining trials on the chosen backend.

    Raises:
        ConfigError: a bad objective, constraint, space, storage or study setup.
        DataError: the candles cannot be traded.
    """
    # before loading: the file's parsing frees columns of 16 MB too, which would otherwise
    # stay resident in the heap that the workers fork with (see ``map_large_blocks``)
    map_large_blocks()
    objectives = tuple(parse_objective(o) for o in request.objectives)
    for constraint in request.constraints:
        parse_constraint(constraint)  # refused here, before any worker starts
    config = request.config
    cls = resolve_strategy(config.strategy.name)
    space = space_for(cls, list(config.strategy.params), request.space)
    data = load_backtest_data(config, request.store, request.chosen)
    spec = TrialSpec(data.config, data.start_index, request.objectives, request.constraints)
    plan = replace(request.plan, setup=_setup(data, request))
    storage, shown = open_storage(request.storage, config.database)
    try:
        runner = StudyRunner(plan, objectives, space, request.constraints, storage)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="tradebot-candles-") as folder:
            candles_dir = write_candles(data.candles, Path(folder))
            backend = _backend(request, spec, candles_dir)
            try:
                ran = runner.run(backend, progress)
            finally:
                backend.close()
        wall_s = time.monotonic() - started
        study = detached(runner.study, storage)
    finally:
        close_storage(storage)
    best = best_trials(study)
    verdict = None
    if len(objectives) == 1:
        maximize = objectives[0].direction == "maximize"
        trials = study.get_trials(deepcopy=False)
        verdict = judge(trials, best[0] if best else None, objectives[0].label, maximize)
    return OptimizeRun(study, best, objectives, space, shown, ran, wall_s, data, verdict)


def default_study_name(config: Config) -> str:
    """``<strategy>-<symbol>-<timeframe>``, e.g. ``ema_crossover-BTC-USDT-1h``."""
    strategy = Path(config.strategy.name.partition(":")[0]).stem or config.strategy.name
    symbol = config.trading.symbol.replace("/", "-")
    return f"{strategy}-{symbol}-{config.trading.timeframe}"


def _backend(request: OptimizeRequest, spec: TrialSpec, candles_dir: Path) -> TrialBackend:
    if request.backend == "ray":
        try:
            module = importlib.import_module("tradebot.research.ray_backend")
        except ModuleNotFoundError as e:
            raise ConfigError("--backend ray needs Ray: pip install 'tradebot[ray]'") from e
        backend: TrialBackend = module.RayBackend(
            spec, candles_dir, request.workers, request.ray_address
        )
        return backend
    if request.workers == 1:
        return InProcessBackend(spec, candles_dir)
    return ProcessBackend(spec, candles_dir, request.workers)


def _setup(data: BacktestData, request: OptimizeRequest) -> dict[str, object]:
    # What the scores depend on besides the searched parameters: a resumed study must match.
    config = data.config
    dumped = config.model_dump(mode="json", exclude={"strategy": {"params"}})
    digest = hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()[:16]
    ts = data.candles["ts_ms"]
    return {
        "strategy": config.strategy.name,
        "fixed_params": dict(config.strategy.params),
        "symbol": config.trading.symbol,
        "timeframe": config.trading.timeframe,
        "data": data.source,
        "bars": len(data.candles),
        "first_ts_ms": int(ts.iloc[0]),
        "last_ts_ms": int(ts.iloc[-1]),
        "trade_from_bar": data.start_index,
        "constraints": list(request.constraints),
        "config_sha256": digest,
    }
