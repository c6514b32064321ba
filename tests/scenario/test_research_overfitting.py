"""The overfitting statistics on strategies backtested for real: pure noise looks like luck,
a planted edge survives walk-forward and deflation.

Every trial is the real Backtester running ``ema_crossover`` (default risk settings, fees)
over seeded synthetic candles.
"""

from __future__ import annotations

import numpy as np
import pytest

from factories import make_candles, regime_candles
from tradebot.config import Config, load_config
from tradebot.research.grid import GridSearch, default_grid
from tradebot.research.overfitting import probability_of_backtest_overfitting, trials_dsr
from tradebot.research.robustness import exposure_series, random_entry_test
from tradebot.research.splits import walk_forward_folds
from tradebot.research.walkforward import walk_forward


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(None)


def test_noise_strategies_pbo_near_one_half_and_best_of_n_dsr_not_significant(
    config: Config,
) -> None:
    # Arrange: 20 random-walk worlds of 1,500 hourly bars; in each, 12 parameter sets
    search = GridSearch(config, {"fast_period": (8, 12, 16, 20), "slow_period": (40, 60, 90)})
    pbos, dsrs = [], []

    # Act
    for seed in range(20):
        search.run(make_candles(1500, seed=seed))
        matrix = search.returns_matrix()
        pbos.append(probability_of_backtest_overfitting(matrix, 16).pbo)
        dsrs.append(trials_dsr(matrix).dsr)

    # Assert: one world's PBO swings (its trials are correlated: they trade the same
    # path), the average sits at one half; no world's best passes the deflation
    assert abs(float(np.mean(pbos)) - 0.5) <= 0.1
    assert float(np.median(dsrs)) < 0.5
    assert max(dsrs) < 0.95


def test_planted_edge_is_found_out_of_sample_and_deflated_sharpe_above_095(
    config: Config,
) -> None:
    # Arrange: 4,000 bars of lasting trends (drift 0.2 % a bar against 1 % noise)
    candles = regime_candles(4000, seed=0, drift=0.002)
    search = GridSearch(config, default_grid("ema_crossover"))

    # Act
    search.run(candles)
    dsr = trials_dsr(search.returns_matrix())
    folds = walk_forward_folds(len(candles), train_bars=1000, test_bars=500)
    result = walk_forward(config, candles, folds, GridSearch(config, search.grid))
    bar_returns, exposed = exposure_series(result.out_of_sample)
    timing = random_entry_test(bar_returns, exposed, n_runs=500, seed=0)

    # Assert: the best of 20 survives the deflation; traded on unseen bars, the chosen
    # parameters earn, and their timing beats random entries with the same exposure
    assert dsr.dsr > 0.95
    assert len(result.folds) == 6
    assert result.metrics.total_return_pct > 5.0
    assert result.metrics.sharpe_ratio is not None
    assert result.metrics.sharpe_ratio > 2.0
    assert timing.p_value < 0.05
