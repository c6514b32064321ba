"""PBO and the deflated Sharpe ratio on examples small enough to work out by hand."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from tradebot.research.overfitting import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratios,
    trials_dsr,
)


def mean_performance(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=0)


def test_pbo_two_slices_trial_best_in_one_half_is_worst_in_the_other_is_one() -> None:
    # Arrange: trial A wins slice 0, trial B wins slice 1
    returns = np.array([[1.0, 0.0], [0.0, 1.0]])

    # Act
    result = probability_of_backtest_overfitting(returns, 2, mean_performance)

    # Assert: each in-sample winner ranks 1 of 2 out of sample: w = 1/3, logit ln(1/2)
    assert result.pbo == 1.0
    assert result.logits == pytest.approx([math.log(0.5)] * 2)
    assert result.oos_of_best.tolist() == [0.0, 0.0]


def test_pbo_two_slices_consistent_winner_is_zero() -> None:
    returns = np.array([[1.0, 0.0], [1.0, 0.0]])

    result = probability_of_backtest_overfitting(returns, 2, mean_performance)

    # A is best in both halves and ranks 2 of 2 out of sample: w = 2/3, logit ln 2
    assert result.pbo == 0.0
    assert result.logits == pytest.approx([math.log(2.0)] * 2)
    assert result.prob_oos_loss == 0.0


def test_pbo_four_slices_three_trials_matches_the_six_combinations_by_hand() -> None:
    # Arrange: rows are slices, columns trials A, B, C
    returns = np.array([[4, 0, 1], [2, 1, 0], [0, 3, 1], [1, 0, 2]], dtype=np.float64)

    # Act
    result = probability_of_backtest_overfitting(returns, 4, mean_performance)

    # Assert, combination by combination (in-sample means -> best -> out-of-sample rank of 3):
    # {0,1}: A 3.0 best; OOS A .5 of (.5, 1.5, 1.5): rank 1, w 1/4, odds 1/3
    # {0,2}: A 2.0 best; OOS A 1.5 of (1.5, .5, 1): rank 3, w 3/4, odds 3
    # {0,3}: A 2.5 best; OOS A 1 of (1, 2, .5): rank 2, w 1/2, odds 1 (logit 0 counts)
    # {1,2}: B 2.0 best; OOS B 0 of (2.5, 0, 1.5): rank 1, odds 1/3
    # {1,3}: A 1.5 best; OOS A 2 of (2, 1.5, 1): rank 3, odds 3
    # {2,3}: B and C tie at 1.5, the first (B) is taken; OOS B .5 ties C .5: rank 1.5,
    #        w 1.5/4, odds 0.6
    assert np.exp(result.logits) == pytest.approx([1 / 3, 3, 1, 1 / 3, 3, 0.6])
    assert result.pbo == pytest.approx(4 / 6)
    assert result.is_best.tolist() == [3.0, 2.0, 2.5, 2.0, 1.5, 1.5]
    assert result.n_combinations == 6


def test_pbo_default_sharpe_equals_the_slow_path_on_random_returns() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0, 0.01, (400, 7))

    fast = probability_of_backtest_overfitting(returns, 8)
    slow = probability_of_backtest_overfitting(returns, 8, sharpe_ratios)

    assert fast.pbo == slow.pbo
    assert fast.logits == pytest.approx(slow.logits)
    assert fast.oos_of_best == pytest.approx(slow.oos_of_best)


def test_pbo_refuses_an_odd_slice_count_and_a_single_trial() -> None:
    with pytest.raises(ValueError, match="n_slices must be even"):
        probability_of_backtest_overfitting(np.zeros((10, 3)), 5)
    with pytest.raises(ValueError, match="at least 2 trials"):
        probability_of_backtest_overfitting(np.zeros((10, 1)), 2)


def test_pbo_of_independent_noise_trials_is_one_half_on_average() -> None:
    # Arrange: 60 worlds of 40 zero-skill trials, 800 bars each
    rng = np.random.default_rng(11)

    # Act
    pbos = [
        probability_of_backtest_overfitting(rng.normal(0, 0.01, (800, 40)), 10).pbo
        for _ in range(60)
    ]

    # Assert
    assert abs(float(np.mean(pbos)) - 0.5) < 0.05


def test_psr_hand_computed() -> None:
    # SR 0.1 per bar over 101 bars, normal returns: z = 0.1 * 10 / sqrt(1 + 2/4 * 0.01)
    z = 1.0 / math.sqrt(1.005)

    assert probabilistic_sharpe_ratio(0.1, 0.0, 101) == pytest.approx(NormalDist().cdf(z))
    assert probabilistic_sharpe_ratio(0.1, 0.0, 101) == pytest.approx(0.8407, abs=1e-4)


def test_expected_max_sharpe_two_trials_unit_variance() -> None:
    # (1 - γ) Φ⁻¹(1/2) = 0, so only γ Φ⁻¹(1 - 1/(2e)) = 0.5772 × 0.9004 remains
    assert expected_max_sharpe(2, 1.0) == pytest.approx(0.5198, abs=1e-4)
    assert expected_max_sharpe(1, 4.0) == 0.0


def test_dsr_reproduces_the_papers_numerical_example() -> None:
    # Bailey & López de Prado 2014, §"A numerical example": 100 trials whose annualised
    # Sharpe ratios vary by 1/2, the best 2.5 annualised over 1,250 daily bars, skew -3,
    # kurtosis 10: SR0 = 0.1132 per day and DSR = 0.9004.
    benchmark = expected_max_sharpe(100, 0.5 / 250)

    dsr = probabilistic_sharpe_ratio(2.5 / math.sqrt(250), benchmark, 1250, -3.0, 10.0)

    assert benchmark == pytest.approx(0.1132, abs=1e-4)
    assert dsr == pytest.approx(0.9004, abs=1e-4)


def test_deflated_sharpe_ratio_reads_moments_from_the_returns() -> None:
    # Arrange: a symmetric two-point series: skew 0, kurtosis 1, Sharpe 0.5/1.0 per bar
    returns = np.array([1.5, -0.5] * 50)

    # Act
    result = deflated_sharpe_ratio(returns, n_trials=1, sharpe_variance=0.0)

    # Assert
    std = float(np.std(returns, ddof=1))
    assert result.sharpe == pytest.approx(0.5 / std)
    assert result.skew == pytest.approx(0.0, abs=1e-12)
    assert result.kurtosis == pytest.approx(1.0)
    assert result.benchmark == 0.0
    expected = probabilistic_sharpe_ratio(0.5 / std, 0.0, 100, 0.0, 1.0)
    assert result.dsr == pytest.approx(expected)


def test_trials_dsr_of_best_noise_trial_is_rarely_significant() -> None:
    # Arrange: 200 worlds of 50 zero-skill trials; the best of each looks good on its own
    rng = np.random.default_rng(5)
    worlds = [rng.normal(0, 0.01, (500, 50)) for _ in range(200)]

    # Act
    results = [trials_dsr(w) for w in worlds]

    # Assert: undeflated, the best is "significant" (PSR vs 0 > 0.95) almost always;
    # deflated, the median is under 1/2 and the false positives near the 5 % they should be
    naive = [probabilistic_sharpe_ratio(r.sharpe, 0.0, r.n_bars) for r in results]
    dsrs = np.array([r.dsr for r in results])
    assert np.mean(np.array(naive) > 0.95) > 0.8
    assert float(np.median(dsrs)) < 0.5
    assert float(np.mean(dsrs > 0.95)) < 0.1
