"""Monte Carlo over trades and the random-entry test, on sequences small enough to enumerate."""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
import pytest

from tradebot.backtest.result import BacktestResult
from tradebot.domain.portfolio import Trade
from tradebot.research.robustness import (
    Resampling,
    exposure_series,
    monte_carlo,
    random_entry_test,
    trade_returns,
)

T0, HOUR = 1_704_067_200_000, 3_600_000


def result_with(pnls: list[str], close: list[float], qty: list[float]) -> BacktestResult:
    n = len(close)
    one = Decimal(1)
    trades = [Trade("BTC/USDT", T0, T0 + HOUR, one, one, one, Decimal(0), Decimal(p)) for p in pnls]
    prices = np.array(close)
    return BacktestResult(
        "BTC/USDT", "1h", "test", {}, 1000.0, T0 + HOUR * np.arange(n, dtype=np.int64),
        prices, prices, prices, prices, np.full(n, 1000.0), np.array(qty), trades, [], [], 0.0,
    )  # fmt: skip


def test_trade_returns_are_pnl_over_the_realised_equity_before_each_trade() -> None:
    result = result_with(["100", "-110", "50"], [1.0], [0.0])

    # realised equity before each trade: 1000, 1100, 990
    assert trade_returns(result) == pytest.approx([0.1, -0.1, 50 / 990])


def drawdown_pct(returns: tuple[float, ...]) -> float:
    equity = np.cumprod([1.0, *(1 + r for r in returns)])
    return float(np.max(1 - equity / np.maximum.accumulate(equity)) * 100)


def test_shuffle_keeps_the_final_return_and_draws_drawdowns_of_real_orderings() -> None:
    # Arrange: two 10 % losses; back to back they cost 19 %
    returns = [0.1, -0.1, -0.1, 0.2]
    possible = {round(drawdown_pct(p), 9) for p in itertools.permutations(returns)}

    # Act
    mc = monte_carlo(returns, Resampling.SHUFFLE, n_runs=500, seed=1)

    # Assert
    final = (1.1 * 0.9 * 0.9 * 1.2 - 1) * 100
    assert mc.return_pct == pytest.approx(np.full(500, final))
    assert mc.actual_return_pct == pytest.approx(final)
    assert {round(float(d), 9) for d in mc.max_drawdown_pct} == possible
    assert mc.drawdown_percentiles()[95.0] == pytest.approx(19.0)
    assert mc.actual_max_drawdown_pct == pytest.approx(19.0)  # 1.1 → 0.891 of 1.1


def test_bootstrap_varies_the_return_reproducibly_from_its_seed() -> None:
    returns = [0.05, -0.02, 0.01, -0.04, 0.03]

    first = monte_carlo(returns, Resampling.BOOTSTRAP, n_runs=300, seed=4)
    again = monte_carlo(returns, Resampling.BOOTSTRAP, n_runs=300, seed=4)

    assert np.array_equal(first.return_pct, again.return_pct)
    assert float(np.std(first.return_pct)) > 1.0
    best = (1.05**5 - 1) * 100  # every draw the best trade
    assert float(first.return_pct.max()) <= best + 1e-9
    assert 0.0 < first.prob_loss < 1.0


def test_random_entry_one_winning_bar_in_ten_is_found_by_one_placement_in_ten() -> None:
    # Arrange: the rule holds only bar 2, the only bar that rose
    bar_returns = np.zeros(10)
    bar_returns[2] = 0.1
    exposed = np.zeros(10, dtype=bool)
    exposed[2] = True

    # Act
    test = random_entry_test(bar_returns, exposed, n_runs=4000, seed=0)

    # Assert: a one-bar holding lands on each of the 10 bars alike
    assert test.p_value == pytest.approx(0.1, abs=0.015)
    assert test.rule_log_return == pytest.approx(np.log(1.1))
    assert (test.n_trades, test.exposed_bars, test.n_bars) == (1, 1, 10)


def test_random_entry_keeps_the_holding_periods_and_never_overlaps_them() -> None:
    # Arrange: holdings of 3 and 2 bars; a bar return of 1 counts the bars held
    exposed = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    counts = np.expm1(np.ones(12))

    # Act
    test = random_entry_test(counts, exposed, n_runs=200, seed=2)

    # Assert: every placement holds exactly 5 bars
    assert test.random_log_returns == pytest.approx(np.full(200, 5.0))
    assert test.p_value == 1.0


def test_random_entry_perfect_timing_on_noise_is_significant() -> None:
    rng = np.random.default_rng(8)
    bar_returns = rng.normal(0, 0.01, 2000)

    test = random_entry_test(bar_returns, bar_returns > 0, n_runs=500, seed=1)

    assert test.p_value == pytest.approx(1 / 501)


def test_exposure_series_pairs_each_bar_return_with_the_previous_close_holding() -> None:
    result = result_with([], [100.0, 110.0, 99.0, 99.0], [0.0, 2.0, 0.0, 0.0])

    returns, exposed = exposure_series(result)

    assert returns == pytest.approx([0.1, -0.1, 0.0])
    assert exposed.tolist() == [False, True, False]
