"""`tradebot backtest` over several markets on one account: one file per market (--data
repeated or a folder, the market read from each name), `trading.symbols` honoured, and
paper/live refusing a basket instead of trading only its first market."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import load_config, with_overrides
from tradebot.data.load import sample_path

WINDOW = ("--start", "2024-10-01", "--end", "2024-11-01")
BTC_1H, ETH_1H = "binance_BTC-USDT_1h_2024.csv.gz", "binance_ETH-USDT_1h_2024Q4.csv.gz"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def sample(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    with sample_path(name).open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


def traded_symbols(report_root: Path) -> set[str]:
    with (report_root / "latest" / "trades.csv").open(encoding="utf-8") as f:
        return {row["symbol"] for row in csv.DictReader(f)}


def test_backtest_data_repeated_trades_each_market_on_one_account(tmp_path: Path) -> None:
    btc, eth = sample(tmp_path, BTC_1H), sample(tmp_path, ETH_1H)
    reports = tmp_path / "reports"

    code, output = invoke(
        "backtest", "--data", str(btc), "--data", str(eth), *WINDOW, "--report-dir", str(reports)
    )

    assert code == 0, output
    assert "on BTC/USDT+ETH/USDT 1h: 744 bars" in output
    assert traded_symbols(reports) == {"BTC/USDT", "ETH/USDT"}


def test_backtest_folder_takes_the_listed_markets_at_the_timeframe(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in (BTC_1H, ETH_1H, "binance_BTC-USDT_1m_2024-12.csv.gz"):
        sample(folder, name)
    config = tmp_path / "basket.yaml"
    config.write_text("trading:\n  symbols: [ETH/USDT, BTC/USDT]\n  timeframe: 1h\n")
    reports = tmp_path / "reports"

    code, output = invoke(
        "backtest", "-c", str(config), "--data", str(folder), *WINDOW, "--report-dir", str(reports)
    )

    assert code == 0, output
    assert "on ETH/USDT+BTC/USDT 1h" in output
    assert traded_symbols(reports) == {"BTC/USDT", "ETH/USDT"}


def test_backtest_listed_market_without_file_refused_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "basket.yaml"
    config.write_text("trading:\n  symbols: [BTC/USDT, SOL/USDT]\n")

    code, output = invoke(
        "backtest", "-c", str(config), "--data", str(sample(tmp_path, BTC_1H)), *WINDOW
    )

    assert code == 2
    assert "trading.symbols lists BTC/USDT, SOL/USDT; no candle file for SOL/USDT" in output


def test_config_lone_symbols_entry_is_the_market_traded() -> None:
    config = with_overrides(load_config(None), {"trading.symbols": ["ETH/USDT"]}, "test")

    assert config.trading.symbol == "ETH/USDT"
