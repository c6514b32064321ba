"""The backtester reads the candle store by symbol, timeframe and date range."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradebot.backtest.session import run_backtest
from tradebot.cli import build_app
from tradebot.config import load_config, with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.data.store import CandleStore
from tradebot.domain.errors import ConfigError

SAMPLE = sample_path("binance_BTC-USDT_1h_2024.csv.gz")


def test_backtest_from_store_equals_backtest_from_file(tmp_path: Path) -> None:
    # Arrange: the sample imported into a store, as `tradebot download` would leave it
    db = str(tmp_path / "candles.db")
    CandleStore(db).write("BTC/USDT", "1h", load_candles(SAMPLE))
    config = load_config(None)
    # Act
    from_store = run_backtest(config, store=db)
    from_file = run_backtest(config)
    # Assert
    assert from_store.data_source == "store candles.db"
    assert from_store.result.n_bars == from_file.result.n_bars == 8_784
    assert from_store.result.trades == from_file.result.trades
    assert len(from_store.result.trades) > 50


def test_backtest_from_store_without_the_series_says_how_to_get_it(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.db")
    CandleStore(db)
    with pytest.raises(ConfigError, match=r"tradebot download --symbols BTC/USDT --timeframes 1h"):
        run_backtest(load_config(None), store=db)


def test_cli_backtest_store_option_prints_metrics(tmp_path: Path) -> None:
    db = tmp_path / "candles.db"
    CandleStore(str(db)).write("BTC/USDT", "1h", load_candles(SAMPLE))
    result = CliRunner().invoke(
        build_app(), ["backtest", "--store", str(db), "--report-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "8,784 bars from store" in result.output
    assert (tmp_path / "r" / "latest" / "report.html").exists()


def test_backtest_from_store_trade_from_with_warmup_equals_the_file(tmp_path: Path) -> None:
    # Arrange
    db = str(tmp_path / "candles.db")
    CandleStore(db).write("BTC/USDT", "1h", load_candles(SAMPLE))
    updates = {"backtest.trade_from": "2024-03-01", "backtest.warmup_bars": 300}
    config = with_overrides(load_config(None), updates, "test")
    # Act
    from_store = run_backtest(config, store=db)
    from_file = run_backtest(config)
    # Assert: the store is read from 300 bars before the start, as the file is cut
    assert from_store.result.n_bars == from_file.result.n_bars
    assert from_store.result.trades == from_file.result.trades
    assert from_store.notes == from_file.notes[-len(from_store.notes) :]
