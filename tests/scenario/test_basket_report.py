"""The report of a basket backtest (BTC and ETH on one account): each symbol's contribution
adds up to the account's PnL, the correlation matrix is the symbols' returns', and the
benchmark is the equal-weight buy-and-hold basket."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradebot.backtest.legs import contributions, return_correlation
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.session import run_backtest
from tradebot.config import load_config, with_overrides
from tradebot.data.load import sample_path

BTC_1H, ETH_1H = "binance_BTC-USDT_1h_2024.csv.gz", "binance_ETH-USDT_1h_2024Q4.csv.gz"


@pytest.fixture(scope="module")
def basket(tmp_path_factory: pytest.TempPathFactory) -> tuple[BacktestResult, str]:
    config = with_overrides(
        load_config(None),
        {
            "trading.symbols": ["BTC/USDT", "ETH/USDT"],
            "backtest.start": "2024-10-01",
            "backtest.end": "2024-12-01",
            "strategy.params": {"fast_period": 6, "slow_period": 20, "rsi_threshold": 100},
        },
        "test",
    )
    out = tmp_path_factory.mktemp("basket")
    files = [Path(str(sample_path(BTC_1H))), Path(str(sample_path(ETH_1H)))]
    run = run_backtest(config, files=files, report_dir=out)
    return run.result, (out / "report.html").read_text(encoding="utf-8")


def table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert body is not None, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [[re.sub(r"<.*?>", "", c) for c in re.findall(r"<td.*?</td>", r)] for r in rows]


def test_basket_report_contributions_add_up_to_the_account(
    basket: tuple[BacktestResult, str],
) -> None:
    # Arrange
    result, html = basket

    # Act
    gained = contributions(result)
    rows = {r[0]: r for r in table(html, "symbols")}

    # Assert: at every close, cash + holdings = starting cash + what each symbol added
    assert {t.symbol for t in result.trades} == {"BTC/USDT", "ETH/USDT"}
    total = sum(gained.values())
    np.testing.assert_allclose(total + result.starting_cash, result.equity, rtol=0, atol=1e-6)
    assert set(rows) == {"BTC/USDT", "ETH/USDT"}
    for symbol, row in rows.items():
        assert float(row[1].replace(",", "")) == pytest.approx(gained[symbol][-1], abs=0.01)
        mine = [t for t in result.trades if t.symbol == symbol]
        assert int(row[5]) == len(mine)
        in_trade = np.zeros(result.n_bars, dtype=bool)  # bars closed inside one of its trades
        for t in mine:
            in_trade |= (result.ts_ms >= t.entry_ts_ms) & (result.ts_ms < t.exit_ts_ms)
        assert row[3] == f"{in_trade.mean() * 100:.1f}%"  # exposure time: fee dust is no position


def test_basket_report_correlation_is_of_the_symbols_log_returns(
    basket: tuple[BacktestResult, str],
) -> None:
    # Arrange
    result, html = basket
    closes = pd.DataFrame({s: leg.close for s, leg in result.legs.items()})
    by_hand = np.corrcoef(np.log(closes).diff().dropna().to_numpy().T)[0, 1]

    # Act
    matrix = return_correlation(result)
    shown = table(html, "correlation")

    # Assert
    assert matrix.loc["BTC/USDT", "ETH/USDT"] == pytest.approx(by_hand)
    assert 0.5 < by_hand < 1  # BTC and ETH moved together in late 2024
    assert shown == [
        ["BTC/USDT", "1.00", f"{by_hand:.2f}"],
        ["ETH/USDT", f"{by_hand:.2f}", "1.00"],
    ]


def test_basket_report_benchmark_is_the_equal_weight_basket(
    basket: tuple[BacktestResult, str],
) -> None:
    # Arrange: half the cash in each market at the first bar's open, marked at each close
    result, html = basket
    growth = []
    for name, symbol in ((BTC_1H, "BTC/USDT"), (ETH_1H, "ETH/USDT")):
        frame = pd.read_csv(str(sample_path(name)))
        first_open = float(frame.loc[frame["timestamp"] == result.ts_ms[0], "open"].iloc[0])
        growth.append(result.legs[symbol].close / first_open)

    # Act
    benchmark = result.close  # what the report draws and measures buy & hold on

    # Assert
    np.testing.assert_allclose(benchmark, (growth[0] + growth[1]) / 2, rtol=1e-12)
    assert result.open[0] == 1.0
    assert "BTC\\u002fUSDT, ETH\\u002fUSDT and their equal-weight basket (start = 1)" in html
    assert "Contribution to equity by symbol" in html
