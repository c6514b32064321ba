"""Skipping quiet bars changes nothing: the fast path and ``every_bar=True`` trade alike.

Each built-in strategy with each stop method (and an R-multiple take-profit) runs on the
bundled 2024 BTC/USDT 1h sample and on seeded synthetic candles with gaps, both ways; the
trades (times, prices, amounts, PnL, exit reasons), fills, equity curves and decision records
must be equal.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from factories import make_candles
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.session import run_backtest
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.domain.decisions import SignalAction
from tradebot.domain.market import decimal_from_float

STRATEGIES = ["ema_crossover", "rsi_mean_reversion", "breakout"]
STOPS = ["atr", "trailing_atr", "fixed_pct"]
H = 3_600_000


@pytest.fixture(scope="module")
def btc_1h() -> pd.DataFrame:
    """The bundled real sample: 8,784 hourly BTC/USDT candles of 2024."""
    return load_candles(sample_path("binance_BTC-USDT_1h_2024.csv.gz"))


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    """3,000 seeded hourly candles around 40,000 with opening gaps."""
    return make_candles(3000, seed=11, start=40_000.0, volatility=0.008, gap=0.002)


def config(strategy: str, stop: str, slippage_bps: float = 0.0) -> Config:
    return with_overrides(
        load_config(None),
        {
            "strategy.name": strategy,
            "risk.stop_loss_method": stop,
            "risk.take_profit_method": "r_multiple",
            "backtest.slippage_bps": slippage_bps,
        },
        "test",
    )


def trade_rows(result: BacktestResult) -> list[tuple[object, ...]]:
    return [
        (t.entry_ts_ms, t.exit_ts_ms, t.entry_price, t.exit_price, t.qty, t.pnl, t.exit_reason)
        for t in result.trades
    ]


def assert_same_run(fast: BacktestResult, full: BacktestResult) -> None:
    assert trade_rows(fast) == trade_rows(full)
    assert fast.fills == full.fills
    assert np.array_equal(fast.equity, full.equity)
    assert np.array_equal(fast.position_qty, full.position_qty)
    assert fast.rejected_orders == full.rejected_orders
    assert list(fast.decisions) == list(full.decisions)  # every signal, check and reason


@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_backtest_btc_sample_skipping_equals_every_bar(
    btc_1h: pd.DataFrame, strategy: str, stop: str
) -> None:
    # Arrange
    cfg = config(strategy, stop)

    # Act
    fast = run_backtest(cfg, candles=btc_1h).result
    full = run_backtest(cfg, candles=btc_1h, every_bar=True).result

    # Assert
    assert len(full.trades) >= 20
    assert_same_run(fast, full)
    assert int(fast.settings["bars_visited"] or 0) <= int(full.settings["bars_visited"] or 0)


@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_backtest_synthetic_gaps_skipping_equals_every_bar(
    synthetic: pd.DataFrame, strategy: str, stop: str
) -> None:
    cfg = config(strategy, stop, slippage_bps=5.0)

    fast = run_backtest(cfg, candles=synthetic).result
    full = run_backtest(cfg, candles=synthetic, every_bar=True).result

    assert len(full.trades) >= 10
    assert_same_run(fast, full)


def test_backtest_skipping_visits_fewer_bars_than_every_bar(btc_1h: pd.DataFrame) -> None:
    cfg = config("ema_crossover", "atr")

    fast = run_backtest(cfg, candles=btc_1h).result
    full = run_backtest(cfg, candles=btc_1h, every_bar=True).result

    assert full.settings["bars_visited"] == len(btc_1h)
    assert int(fast.settings["bars_visited"] or 0) < len(btc_1h) // 2


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_backtest_signal_on_close_fills_at_next_bar_open(
    btc_1h: pd.DataFrame, strategy: str
) -> None:
    # Arrange
    opens = dict(zip(btc_1h["ts_ms"].tolist(), btc_1h["open"].tolist(), strict=True))

    # Act
    result = run_backtest(config(strategy, "atr"), candles=btc_1h).result

    # Assert
    buys = {d.ts_ms for d in result.decisions if d.signal.action is SignalAction.BUY}
    assert result.trades
    for trade in result.trades:
        assert trade.entry_ts_ms - H in buys  # decided at the previous bar's close
        assert trade.entry_price == decimal_from_float(opens[trade.entry_ts_ms])
    signal_exits = [t for t in result.trades if t.exit_reason == "signal"]
    for trade in signal_exits:
        assert trade.exit_price == decimal_from_float(opens[trade.exit_ts_ms])


def test_backtest_entry_fill_price_includes_slippage(btc_1h: pd.DataFrame) -> None:
    opens = dict(zip(btc_1h["ts_ms"].tolist(), btc_1h["open"].tolist(), strict=True))

    result = run_backtest(config("ema_crossover", "atr", slippage_bps=10.0), candles=btc_1h).result

    entry = result.trades[0]
    expected = decimal_from_float(opens[entry.entry_ts_ms]) * Decimal("1.001")
    assert entry.entry_price == expected.quantize(Decimal("0.01"))


@pytest.mark.parametrize("on_timeout", ["cancel", "reprice", "market"])
def test_backtest_limit_entries_skipping_equals_every_bar(
    btc_1h: pd.DataFrame, on_timeout: str
) -> None:
    cfg = with_overrides(
        config("ema_crossover", "trailing_pct"),
        {
            "execution.order_type": "limit",
            "execution.limit_offset_bps": 10,
            "execution.limit_timeout_s": 7200,
            "execution.on_limit_timeout": on_timeout,
        },
        "test",
    )

    fast = run_backtest(cfg, candles=btc_1h).result
    full = run_backtest(cfg, candles=btc_1h, every_bar=True).result

    assert len(full.trades) >= 20
    assert any(f.is_maker for f in full.fills)
    assert_same_run(fast, full)


ENSEMBLES = {
    "vote": {
        "mode": "vote",
        "k": 2,
        "members": [{"name": s} for s in STRATEGIES],
    },
    "conditional": {
        "mode": "conditional",
        "regime": {"detector": "trend"},
        "members": [
            {"name": "breakout", "when": "trend"},
            {"name": "rsi_mean_reversion", "when": "range"},
        ],
    },
}


@pytest.mark.parametrize("mode", ENSEMBLES)
def test_backtest_ensemble_skipping_equals_every_bar(btc_1h: pd.DataFrame, mode: str) -> None:
    # An ensemble's candidates are its members' union: the skipped bars never signal
    cfg = with_overrides(
        config("ema_crossover", "atr"),
        {"strategy.name": "ensemble", "strategy.ensemble": ENSEMBLES[mode]},
        "test",
    )

    fast = run_backtest(cfg, candles=btc_1h).result
    full = run_backtest(cfg, candles=btc_1h, every_bar=True).result

    assert len(full.trades) >= 20
    assert_same_run(fast, full)
    assert int(fast.settings["bars_visited"] or 0) < len(btc_1h) // 2
