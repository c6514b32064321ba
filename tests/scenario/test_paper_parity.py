"""Backtest and paper trading on the same candles make the same trades, field by field.

The paper side is the real path: TradingBot → CcxtConnector → unmodified ccxt → HTTP on
127.0.0.1 → the sandbox exchange replaying a bundled sample one bar at a time. The backtest
side is Backtester → SimulatedExchange over the bars the paper session saw, trading from the
same bar after the same warm-up (``tradebot.parity``). Only the clock differs, so every trade
is identical: entry and exit times, prices, quantity, fees, PnL and exit reason. The four
configurations are those ``bench/parity.py`` runs on real data from ../shared/data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tradebot.config import load_config
from tradebot.data.load import sample_path
from tradebot.domain.market import timeframe_to_ms
from tradebot.parity import configurations, paper_vs_backtest, parity_config
from tradebot.state import Repository, create_database

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
ETH_1H = Path(str(sample_path("binance_ETH-USDT_1h_2024Q4.csv.gz")))
BTC_1M = Path(str(sample_path("binance_BTC-USDT_1m_2024-12.csv.gz")))
BARS = 200


async def test_paper_vs_backtest_default_config_same_trades(tmp_path: Path) -> None:
    # Arrange: the built-in default (EMA 12/26, 2×ATR stop, fixed-fractional sizing)
    config = load_config(None)
    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=400, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 5, "the window must hold enough trades to mean something"
    assert {t.exit_reason for t in comparison.paper_trades} == {"signal", "stop_loss"}


@pytest.mark.parametrize(
    ("name", "symbol", "timeframe", "data", "start", "exits"),
    [
        ("stop", "BTC/USDT", "1h", BTC_1H, 400, {"signal", "stop_loss"}),
        ("oco", "BTC/USDT", "1h", BTC_1H, 400, {"signal", "stop_loss", "take_profit"}),
        ("limit", "ETH/USDT", "1h", ETH_1H, 400, {"signal", "stop_loss"}),
        # December 2024, BTC above 100,000: the lot step must stay Binance's on both sides
        ("trail", "BTC/USDT", "1m", BTC_1M, 8_000, {"signal", "stop_loss"}),
    ],
)
async def test_paper_vs_backtest_configuration_same_trades(
    tmp_path: Path,
    name: str,
    symbol: str,
    timeframe: str,
    data: Path,
    start: int,
    exits: set[str],
) -> None:
    # Arrange: a fixed stop; stop and take-profit as one OCO list; limit entries; a trailing
    # stop (the quick 3/8 EMA cross, so that a few hundred bars hold many trades)
    overrides = {
        "trading.symbol": symbol,
        "trading.timeframe": timeframe,
        **configurations(timeframe, timeframe_to_ms(timeframe))[name],
    }
    config = parity_config(load_config(None), overrides)
    # Act
    comparison = await paper_vs_backtest(
        config, data, start_index=start, bars=BARS, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 5, "the window must hold enough trades to mean something"
    assert {t.exit_reason for t in comparison.paper_trades} >= exits
    assert comparison.paper_equity == comparison.backtest_equity


async def test_paper_vs_backtest_with_protections_same_trades_and_locks_acted(
    tmp_path: Path,
) -> None:
    # Arrange: the fixed stop with all three protections, tight enough to lock often
    protections = [
        {"method": "cooldown", "stop_duration_bars": 4},
        {"method": "stoploss_guard", "trade_limit": 2, "lookback_bars": 48,
         "stop_duration_bars": 12, "scope": "all"},
        {"method": "max_drawdown", "max_drawdown_pct": 0.002, "lookback_bars": 100,
         "stop_duration_bars": 10, "trade_limit": 3},
    ]  # fmt: skip
    overrides = {**configurations("1h", 3_600_000)["stop"], "risk.protections": protections}
    config = parity_config(load_config(None), overrides)
    db = tmp_path / "p.db"
    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=BARS, database_url=f"sqlite:///{db}"
    )
    # Assert: the same trades, and every protection locked the paper bot at least once
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 5
    repo = Repository(create_database(db))
    assert {s.lock.protection for s in repo.locks()} == {
        "cooldown", "stoploss_guard", "max_drawdown",
    }  # fmt: skip
    refused = [d.verdict for d in repo.decisions() if d.action == "rejected"]
    assert any(v is not None and " locks " in v.reasons[0] for v in refused)
