"""Metrics on small hand-computed backtests: each figure checked against arithmetic by hand."""

from __future__ import annotations

import itertools
import math
import statistics
import tracemalloc
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from tradebot.backtest.metrics import compute_metrics, drawdown_pct, longest_run
from tradebot.backtest.result import BacktestResult, RefusedOrder
from tradebot.domain.orders import OrderStatus
from tradebot.domain.portfolio import Trade

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
HOUR = 3_600_000

# Ten hourly bars. Equity dips 10 % after the first peak and stays under it for three bars.
EQUITY = [1000.0, 1100.0, 990.0, 1045.0, 1078.0, 1210.0, 1100.0, 1155.0, 1320.0, 1265.0]
OPEN = [100.0, 101.0, 99.0, 104.0, 103.0, 108.0, 110.0, 105.0, 112.0, 118.0]
CLOSE = [101.0, 99.0, 104.0, 103.0, 108.0, 110.0, 105.0, 112.0, 118.0, 120.0]
POSITION = [0.0, 5.0, 5.0, 0.0, 0.0, 5.0, 5.0, 5.0, 0.0, 0.0]
# (pnl, hours held): two wins, three losses, two of them in a row
TRADES = [("120", 2), ("-40", 1), ("-60", 3), ("90", 1), ("-20", 3)]
REFUSED = RefusedOrder(
    T0, "BTC/USDT", "tb-BTCUSDT-0-en", "buy", "market", Decimal(1), OrderStatus.EXPIRED, "cash"
)


def make_trade(pnl: str, hours: int, start_bar: int = 0) -> Trade:
    entry = T0 + start_bar * HOUR
    return Trade(
        symbol="BTC/USDT",
        entry_ts_ms=entry,
        exit_ts_ms=entry + hours * HOUR,
        qty=Decimal("1"),
        entry_price=Decimal("100"),
        exit_price=Decimal(100) + Decimal(pnl),
        fees=Decimal("0.5"),
        pnl=Decimal(pnl),
    )


def make_result(
    equity: list[float] = EQUITY,
    trades: list[Trade] | None = None,
    position: list[float] = POSITION,
    settings: dict[str, float | str] | None = None,
) -> BacktestResult:
    n = len(equity)
    return BacktestResult(
        symbol="BTC/USDT",
        timeframe="1h",
        strategy_name="ema_crossover",
        strategy_config={"fast": 12, "slow": 26},
        starting_cash=1000.0,
        ts_ms=T0 + np.arange(n, dtype=np.int64) * HOUR,
        open=np.array(OPEN[:n]),
        high=np.array(CLOSE[:n]) + 2,
        low=np.array(OPEN[:n]) - 2,
        close=np.array(CLOSE[:n]),
        equity=np.array(equity, dtype=np.float64),
        position_qty=np.array(position[:n], dtype=np.float64),
        trades=trades if trades is not None else [make_trade(p, h) for p, h in TRADES],
        fills=[],
        decisions=[],
        fees_paid=7.5,
        refused=(REFUSED, REFUSED),
        settings=settings if settings is not None else {"slippage_bps": 5.0},
    )


def test_compute_metrics_profitability_matches_hand_arithmetic() -> None:
    # Arrange: trades 120, -40, -60, 90, -20
    result = make_result()

    # Act
    m = compute_metrics(result)

    # Assert
    assert m.total_pnl == pytest.approx(265.0)
    assert m.realised_pnl == pytest.approx(90.0)
    assert m.total_return_pct == pytest.approx(26.5)
    assert m.win_rate == pytest.approx(2 / 5)
    assert m.avg_win == pytest.approx(105.0)
    assert m.avg_loss == pytest.approx(-40.0)
    assert m.profit_factor == pytest.approx(210 / 120)
    assert m.max_consecutive_losses == 2
    assert m.total_trades == 5


def test_compute_metrics_activity_and_execution_match_hand_arithmetic() -> None:
    # Arrange: 10 hourly bars = 10/24 day; trades held 2,1,3,1,3 hours
    result = make_result()

    # Act
    m = compute_metrics(result)

    # Assert
    assert m.bar_ms == HOUR
    assert m.periods_per_year == pytest.approx(8760.0)
    assert m.days == pytest.approx(10 / 24)
    assert m.avg_trade_duration_hours == pytest.approx(2.0)
    assert m.trades_per_day == pytest.approx(12.0)
    assert m.exposure_time_pct == pytest.approx(50.0)
    assert m.avg_slippage_bps == 5.0
    assert m.total_fees == 7.5
    assert m.rejected_orders == 2
    assert (m.start_ts_ms, m.end_ts_ms, m.n_bars) == (T0, T0 + 9 * HOUR, 10)


def test_compute_metrics_drawdown_from_equity_curve_matches_hand_arithmetic() -> None:
    # Arrange: peak 1100 then 990 (−10 %), 1045, 1078 under water (3 bars);
    # later 1210 → 1100 (−9.09 %), 1155 (2 bars)
    result = make_result()

    # Act
    m = compute_metrics(result)
    dd = drawdown_pct(result.equity, result.starting_cash)

    # Assert
    assert m.max_drawdown_pct == pytest.approx(10.0)
    assert m.max_drawdown_duration_bars == 3
    assert m.max_drawdown_duration_hours == pytest.approx(3.0)
    assert dd[2] == pytest.approx(-10.0)
    assert dd[6] == pytest.approx(-110 / 1210 * 100)
    assert dd[5] == 0.0


def test_compute_metrics_sharpe_sortino_cagr_calmar_match_hand_arithmetic() -> None:
    # Arrange: returns on [1000 (start), equity...], annualised with 8760 hourly bars a year
    result = make_result()
    curve = [1000.0, *EQUITY]
    rets = [b / a - 1 for a, b in itertools.pairwise(curve)]
    mean = statistics.fmean(rets)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in rets) / len(rets))
    cagr = (1.265 ** (8760 / 10) - 1) * 100

    # Act
    m = compute_metrics(result)

    # Assert
    assert m.sharpe_ratio == pytest.approx(mean / statistics.stdev(rets) * math.sqrt(8760))
    assert m.sortino_ratio == pytest.approx(mean / downside * math.sqrt(8760))
    assert m.cagr_pct == pytest.approx(cagr, rel=1e-9)
    assert m.calmar_ratio == pytest.approx(cagr / 10.0, rel=1e-9)


def test_compute_metrics_buy_and_hold_first_open_to_last_close() -> None:
    # Arrange: open[0] = 100, close[-1] = 120; worst close after a peak: 110 → 105
    result = make_result()

    # Act
    m = compute_metrics(result)

    # Assert
    assert m.buy_and_hold_return_pct == pytest.approx(20.0)
    assert m.buy_and_hold_max_drawdown_pct == pytest.approx(5 / 110 * 100)
    assert m.buy_and_hold_cagr_pct == pytest.approx((1.2**876 - 1) * 100, rel=1e-9)
    assert m.buy_and_hold_sharpe_ratio is not None
    assert m.buy_and_hold_sharpe_ratio > 0


def test_compute_metrics_no_trades_flat_equity_undefined_figures_are_none() -> None:
    # Arrange
    result = make_result(equity=[1000.0] * 10, trades=[], position=[0.0] * 10, settings={})

    # Act
    m = compute_metrics(result)
    rows = dict(m.rows())

    # Assert
    assert m.total_trades == 0
    assert m.total_pnl == 0.0
    assert m.max_drawdown_pct == 0.0
    assert m.max_drawdown_duration_bars == 0
    assert (m.win_rate, m.avg_win, m.avg_loss, m.profit_factor) == (None, None, None, None)
    assert (m.sharpe_ratio, m.sortino_ratio, m.calmar_ratio) == (None, None, None)
    assert m.avg_trade_duration_hours is None
    assert m.avg_slippage_bps is None
    assert m.trades_per_day == 0.0
    assert m.exposure_time_pct == 0.0
    assert rows["Win rate"] == "n/a"
    assert rows["Profit factor"] == "n/a"
    assert rows["Sharpe ratio"] == "n/a"
    assert rows["Average slippage"] == "n/a"
    assert rows["Max drawdown"] == "0.00%"  # not "-0.00%"


def test_compute_metrics_all_wins_profit_factor_is_none() -> None:
    # Arrange
    trades = [make_trade("10", 1), make_trade("30", 3)]

    # Act
    m = compute_metrics(make_result(trades=trades))

    # Assert
    assert m.win_rate == 1.0
    assert m.avg_win == pytest.approx(20.0)
    assert m.avg_loss is None
    assert m.profit_factor is None
    assert m.max_consecutive_losses == 0
    assert dict(m.rows())["Profit factor"] == "n/a"


def test_compute_metrics_all_losses_profit_factor_is_zero() -> None:
    # Arrange
    trades = [make_trade("-10", 1), make_trade("-30", 1), make_trade("-5", 1)]

    # Act
    m = compute_metrics(make_result(trades=trades))

    # Assert
    assert m.win_rate == 0.0
    assert m.avg_win is None
    assert m.avg_loss == pytest.approx(-15.0)
    assert m.profit_factor == 0.0
    assert m.max_consecutive_losses == 3
    assert m.realised_pnl == pytest.approx(-45.0)


def test_compute_metrics_equity_wiped_out_cagr_is_minus_100() -> None:
    # Arrange: the account goes to zero and stays there
    equity = [1000.0, 500.0, 0.0, 0.0, 0.0]

    # Act
    m = compute_metrics(make_result(equity=equity, trades=[]))

    # Assert
    assert m.total_return_pct == -100.0
    assert m.cagr_pct == -100.0
    assert m.max_drawdown_pct == 100.0
    assert m.max_drawdown_duration_bars == 4


def test_compute_metrics_single_bar_has_no_interval_and_no_ratios() -> None:
    # Arrange
    result = make_result(equity=[1010.0], trades=[])

    # Act
    m = compute_metrics(result)

    # Assert
    assert m.bar_ms is None
    assert m.total_return_pct == pytest.approx(1.0)
    assert (m.sharpe_ratio, m.cagr_pct, m.periods_per_year) == (None, None, None)


def test_metrics_rows_format_money_percent_and_duration() -> None:
    # Arrange
    m = compute_metrics(make_result())

    # Act
    rows = dict(m.rows())
    compare = {label: (s, b) for label, s, b in m.comparison_rows()}

    # Assert
    assert rows["Total PnL"] == "265.00"
    assert rows["Total return"] == "26.50%"
    assert rows["Win rate"] == "40.00%"
    assert rows["Profit factor"] == "1.75"
    assert rows["Max drawdown duration"] == "3.0 h"
    assert rows["Average slippage"] == "5 bps"
    assert rows["Buy & hold total return"] == "20.00%"
    assert rows["Buy & hold CAGR"] == compare["CAGR"][1]
    assert compare["Total return"] == ("26.50%", "20.00%")
    assert compare["Max drawdown"] == ("10.00%", "4.55%")


def test_longest_run_counts_longest_true_stretch() -> None:
    assert longest_run(np.array([True, False, True, True, True, False, True])) == 3
    assert longest_run(np.array([], dtype=bool)) == 0
    assert longest_run(np.array([True, True])) == 2


def test_compute_metrics_zero_bars_reports_nothing_without_error() -> None:
    # Arrange
    empty = np.array([], dtype=np.float64)
    result = replace(
        make_result(trades=[]),
        ts_ms=np.array([], dtype=np.int64),
        open=empty,
        high=empty,
        low=empty,
        close=empty,
        equity=empty,
        position_qty=empty,
    )

    # Act
    m = compute_metrics(result)

    # Assert
    assert (m.n_bars, m.total_return_pct, m.max_drawdown_pct, m.days) == (0, 0.0, 0.0, 0.0)
    assert m.final_equity == 1000.0
    assert m.buy_and_hold_return_pct == 0.0


def test_metrics_of_a_long_run_make_few_per_bar_temporaries() -> None:
    # Arrange: 500,000 bars (a float per bar: 4 MB), a curve with drawdowns, and the same
    # curve's metrics worked out in the plain way (numpy on the whole arrays).
    n = 500_000
    rng = np.random.default_rng(3)
    equity = 1000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    result = replace(
        make_result(),
        ts_ms=T0 + np.arange(n, dtype=np.int64) * 60_000,
        open=close.copy(),
        high=close + 1,
        low=close - 1,
        close=close,
        equity=equity,
        position_qty=np.ones(n),
    )
    curve = np.concatenate(([1000.0], equity))
    rets = np.diff(curve) / curve[:-1]
    peak = np.maximum(np.maximum.accumulate(equity), 1000.0)

    # Act
    tracemalloc.start()
    try:
        m = compute_metrics(result)
        _, temporaries = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Assert: the figures, and at most three per-bar float arrays alive at once (the
    # returns, numpy's deviations in the standard deviation, and the buy-and-hold curve
    # until its returns are made); it took four (65 MB on two million bars).
    ppy = 365 * 24 * 60
    assert m.sharpe_ratio == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(ppy))
    downside = math.sqrt(float(np.mean(np.minimum(rets, 0.0) ** 2)))
    assert m.sortino_ratio == pytest.approx(rets.mean() / downside * math.sqrt(ppy))
    assert m.max_drawdown_pct == pytest.approx(float(-(equity / peak - 1).min() * 100))
    assert m.bar_ms == 60_000
    assert temporaries < 3 * 8 * n
