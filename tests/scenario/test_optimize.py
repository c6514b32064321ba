"""``tradebot optimize``'s driver on the bundled BTC 1h sample, through the real Backtester.

What a user relies on: one worker and two find the same parameters; a study stopped halfway
and run again ends where a straight run ends; the studies never disturb the bot's database.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from tradebot.backtest.dataset import load_backtest_data
from tradebot.config import Config, load_config, with_overrides
from tradebot.domain.errors import ConfigError
from tradebot.research.candles import open_candles, write_candles
from tradebot.research.optimize import StudyPlan
from tradebot.research.session import OptimizeRequest, OptimizeRun, run_optimization
from tradebot.research.storage import close_storage
from tradebot.state.db import create_database
from tradebot.strategy.space import IntRange

Row = tuple[int, str, dict[str, object], list[float] | None]


def quarter(**more: object) -> Config:
    """The default config on the sample's first quarter (about 2,200 bars, fast trials)."""
    return with_overrides(load_config(None), {"backtest.end": "2024-04-01", **more}, "test")


def optimize(tmp_path: Path, workers: int, **plan: object) -> OptimizeRun:
    request = OptimizeRequest(
        quarter(),
        StudyPlan(name=f"j{workers}", **plan),  # type: ignore[arg-type]
        constraints=("total_trades>=3",),
        workers=workers,
        storage=str(tmp_path / f"j{workers}.journal"),
    )
    return run_optimization(request)


def rows(study: optuna.Study) -> list[Row]:
    return [(t.number, t.state.name, t.params, t.values) for t in study.get_trials()]


def test_optimize_one_and_two_workers_propose_and_find_the_same(tmp_path: Path) -> None:
    one = optimize(tmp_path, 1, n_trials=16)
    two = optimize(tmp_path, 2, n_trials=16)

    assert rows(one.study) == rows(two.study)
    assert [t.params for t in one.best] == [t.params for t in two.best]
    assert len(one.study.trials) == 16
    best = one.best[0]
    assert best.user_attrs["metrics"]["total_trades"] >= 3
    feasible = [
        t.values[0]
        for t in one.study.trials
        if t.state == TrialState.COMPLETE and t.constraints["total_trades>=3"] <= 0
    ]
    assert best.values[0] == max(feasible)


def test_optimize_stopped_mid_round_and_resumed_ends_as_a_straight_run(tmp_path: Path) -> None:
    straight = optimize(tmp_path, 1, n_trials=24)
    storage = str(tmp_path / "stopped.journal")
    request = OptimizeRequest(
        quarter(),
        StudyPlan(name="stopped", n_trials=24),
        constraints=("total_trades>=3",),
        storage=storage,
    )

    def stop_at_trial_10(trial: FrozenTrial, done: int, total: int) -> None:
        if trial.number == 10:  # Ctrl-C in the middle of the round of trials 8..15
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_optimization(request, stop_at_trial_10)
    stopped = optuna.load_study(study_name="stopped", storage=_journal(storage))
    states = [t.state for t in stopped.get_trials()]
    resumed = run_optimization(request)

    assert states.count(TrialState.RUNNING) == 5  # trials 11..15: asked, never told
    assert resumed.ran == 24 - 11
    assert rows(resumed.study) == rows(straight.study)
    assert [t.params for t in resumed.best] == [t.params for t in straight.best]


def test_optimize_two_objectives_use_nsga2_and_return_the_pareto_front(tmp_path: Path) -> None:
    request = OptimizeRequest(
        quarter(),
        StudyPlan(name="pareto", n_trials=16, population=8),
        objectives=("sharpe", "drawdown"),
        storage=str(tmp_path / "p.journal"),
    )

    run = run_optimization(request)

    assert run.study.user_attrs["tradebot_setup"]["sampler"] == "nsga2"
    scored = [(t.values[0], -t.values[1]) for t in run.study.get_trials() if t.values]
    front = [(t.values[0], -t.values[1]) for t in run.best]
    assert front
    for a in front:  # nothing scored beats a front member on both objectives
        assert not any(b[0] >= a[0] and b[1] >= a[1] and b != a for b in scored)


def test_optimize_resumed_with_another_setup_is_refused(tmp_path: Path) -> None:
    optimize(tmp_path, 1, n_trials=8)
    request = OptimizeRequest(
        quarter(),
        StudyPlan(name="j1", n_trials=16, seed=7),
        constraints=("total_trades>=3",),
        storage=str(tmp_path / "j1.journal"),
    )

    with pytest.raises(ConfigError, match=r"study 'j1' was run with another setup \(seed: 0 then"):
        run_optimization(request)


def test_optimize_default_storage_sits_beside_the_project_database(tmp_path: Path) -> None:
    # Optuna's tables and tradebot's share no alembic_version table: both keep working.
    db_file = tmp_path / "bot.db"
    config = quarter(**{"database.path": str(db_file)})
    request = OptimizeRequest(config, StudyPlan(name="beside", n_trials=8))

    run = run_optimization(request)
    database = create_database(db_file)  # the bot's migrations still run on its own file
    database.close()

    assert run.storage == str(tmp_path / "bot-studies.db")
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path}/bot-studies.db")
    stored = len(optuna.load_study(study_name="beside", storage=storage).trials)
    close_storage(storage)
    assert stored == 8


def test_optimize_parameters_the_strategy_refuses_fail_the_trial_with_its_reason(
    tmp_path: Path,
) -> None:
    request = OptimizeRequest(
        quarter(),
        StudyPlan(name="clash", n_trials=8),
        space={"fast_period": IntRange(30, 40), "slow_period": IntRange(20, 35)},
        storage=str(tmp_path / "c.journal"),
    )

    run = run_optimization(request)

    failed = [t for t in run.study.get_trials() if t.state == TrialState.FAIL]
    assert failed
    for t in failed:
        assert t.params["fast_period"] >= t.params["slow_period"]
        assert "fast_period must be below slow_period" in t.user_attrs["error"]


def test_candles_are_mapped_read_only_and_shared_not_copied(tmp_path: Path) -> None:
    candles = load_backtest_data(load_config(None)).candles
    folder = write_candles(candles, tmp_path / "candles")

    mapped = open_candles(folder)
    frame = mapped.frame()

    close = frame["close"].to_numpy()
    assert np.shares_memory(close, mapped.ohlcv)
    assert not close.flags.writeable
    assert np.array_equal(close, candles["close"].to_numpy())
    assert np.array_equal(frame["ts_ms"].to_numpy(), candles["ts_ms"].to_numpy())


def _journal(path: str) -> optuna.storages.JournalStorage:
    backend = optuna.storages.journal.JournalFileBackend(path)
    return optuna.storages.JournalStorage(backend)
