"""The two in-sample searches: the grid from a declared space, and an Optuna study per
window that finds the same parameters from the same seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import make_candles
from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import ConfigError
from tradebot.research.grid import GridSearch, default_grid
from tradebot.research.overfitting import trials_dsr
from tradebot.research.study_search import StudySearch
from tradebot.strategy.space import IntRange

STRATEGY = """
from typing import Annotated
import pandas as pd
from tradebot.domain.decisions import HOLD
from tradebot.strategy.base import Strategy
from tradebot.strategy.space import Choice, FloatRange, IntRange


class Spaced(Strategy):
    name = "spaced"

    def __init__(
        self,
        period: Annotated[int, IntRange(10, 80, log=True)] = 20,
        level: Annotated[float, FloatRange(0.0, 3.0)] = 1.0,
        side: Annotated[str, Choice(("long", "short"))] = "long",
        untouched: int = 5,
    ) -> None:
        self.period, self.level, self.side = period, level, side

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        return candles

    def generate_signals(self, bars, i, position):
        return HOLD

    def get_config(self):
        return {}
"""


def test_default_grid_from_a_declared_space_spreads_each_range(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "spaced.py"
    path.write_text(STRATEGY)

    # Act
    grid = default_grid(f"{path}:Spaced")
    without_side = default_grid(f"{path}:Spaced", fixed=["side"])

    # Assert: 10..80 in log is 10, 20, 40, 80; 0..3 evenly; both options; no undeclared one
    assert grid == {
        "period": [10, 20, 40, 80],
        "level": [0.0, 1.0, 2.0, 3.0],
        "side": ["long", "short"],
    }
    assert list(without_side) == ["period", "level"]


def test_default_grid_refuses_a_strategy_without_a_space_and_names_the_option() -> None:
    folder = Path(__file__).parents[2] / "resources" / "strategies"
    spec = f"{folder / 'above_average.py'}:AboveAverage"

    with pytest.raises(ConfigError, match="declares no parameter space: give a grid with --grid"):
        default_grid(spec)


def test_grid_search_minimised_objective_scores_with_the_sign_flipped() -> None:
    config = load_config(None)
    search = GridSearch(config, {"fast_period": (5, 12), "slow_period": (26,)}, "drawdown")

    trials = search.trial_set(make_candles(1500, seed=3))

    drawdowns = [t.evaluation.metrics.max_drawdown_pct for t in search.trials]
    assert trials.table["value"].tolist() == [-d for d in drawdowns]
    assert (trials.period, trials.n_tried, trials.returns.shape) == ("bar", 2, (1500, 2))


def test_study_search_same_seed_same_parameters_and_every_trial_counted() -> None:
    # Arrange
    config = with_overrides(
        load_config(None), {"strategy.params": {"rsi_threshold": 100.0}}, "test"
    )
    space = {"fast_period": IntRange(5, 20), "slow_period": IntRange(26, 90)}
    candles = make_candles(1500, seed=6)

    def search(seed: int) -> StudySearch:
        return StudySearch(config, space, n_trials=12, seed=seed, fixed={"rsi_threshold": 100.0})

    # Act
    first, again, other = search(0)(candles), search(0)(candles), search(1)
    trials = other.trial_set(candles)

    # Assert: the fixed parameter travels with the chosen ones
    assert first == again
    assert first["rsi_threshold"] == 100.0
    assert set(first) == {"fast_period", "slow_period", "rsi_threshold"}
    assert trials.period == "day"
    assert trials.n_tried == 12
    assert trials.returns.shape[1] == len(trials.table) <= 12
    assert trials.returns.shape[0] == 63  # 1,500 hours end in the 63rd UTC day


def test_trials_dsr_counts_the_trials_that_left_no_returns() -> None:
    rng = np.random.default_rng(2)
    matrix = rng.normal(0.0005, 0.01, (500, 10))

    kept = trials_dsr(matrix)
    counted = trials_dsr(matrix, n_trials=40)

    assert (kept.n_trials, counted.n_trials) == (10, 40)
    assert counted.benchmark > kept.benchmark
    assert counted.dsr < kept.dsr
    with pytest.raises(ValueError, match="n_trials 5 is below the matrix's 10 trials"):
        trials_dsr(matrix, n_trials=5)
