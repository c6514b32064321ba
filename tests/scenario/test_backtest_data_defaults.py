"""``tradebot backtest --data FILE`` as a trader runs it: defaults never change results silently.

The market and timeframe come from the file unless the user chose them; a choice the file
contradicts is an error naming both; a coarser timeframe is reached by resampling, never by
a repair; without --start/--end the whole file is traded; short windows are warned about.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from factories import make_candles
from tradebot.cli import build_app
from tradebot.data.resample import resample

HOUR_MS = 3_600_000
FIVE_MIN_MS = 300_000
DEC_20_2024_MS = 1_734_652_800_000  # 2024-12-20 00:00 UTC


def write(frame: pd.DataFrame, path: Path) -> Path:
    """Write candles in the normalized CSV format (header timestamp,open,...)."""
    frame.rename(columns={"ts_ms": "timestamp"}).to_csv(path, index=False)
    return path


def backtest(*args: str | Path) -> tuple[int, str]:
    """Run ``tradebot backtest`` in-process; return the exit code and the output."""
    result = CliRunner().invoke(build_app(), ["backtest", *map(str, args)], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def report_rows(report_root: Path, name: str) -> list[dict[str, str]]:
    """The rows of a CSV of the one report folder written under ``report_root``."""
    found = sorted(report_root.rglob(name))
    assert found, f"no {name} under {report_root}"
    with found[0].open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def doge_file(tmp_path: Path, name: str = "DOGEUSDT-1h-2024.csv", bar_ms: int = HOUR_MS) -> Path:
    frame = make_candles(1500, seed=3, start=0.39, volatility=0.012, bar_ms=bar_ms)
    return write(frame, tmp_path / name)


# ----------------------------------------------------------------------- item 2: the market
def test_backtest_doge_file_without_symbol_is_traded_as_doge_with_its_price_step(
    tmp_path: Path,
) -> None:
    # Arrange: a DOGE file near 0.39; BTC's 0.01 tick would round every price to 0.39/0.40
    data = doge_file(tmp_path)

    # Act
    code, output = backtest("--data", data, "--report-dir", tmp_path / "r")

    # Assert
    assert code == 0, output
    assert "DOGE/USDT 1h: 1,500 bars" in output
    assert "market DOGE/USDT from the file name" in output
    trades = report_rows(tmp_path / "r", "trades.csv")
    assert trades
    assert {t["symbol"] for t in trades} == {"DOGE/USDT"}
    prices = [Decimal(t[side]) for t in trades for side in ("entry_price", "exit_price")]
    assert any(p != p.quantize(Decimal("0.01")) for p in prices)


def test_backtest_file_contradicting_symbol_option_is_an_error_naming_both(
    tmp_path: Path,
) -> None:
    code, output = backtest("--data", doge_file(tmp_path), "--symbol", "BTC/USDT")

    assert code == 2
    assert "DOGEUSDT-1h-2024.csv holds DOGE/USDT" in output
    assert "--symbol says BTC/USDT" in output


def test_backtest_file_contradicting_config_symbol_is_an_error_naming_both(
    tmp_path: Path,
) -> None:
    config = tmp_path / "my.yaml"
    config.write_text("trading:\n  symbol: ETH/USDT\n", encoding="utf-8")

    code, output = backtest("--data", doge_file(tmp_path), "--config", config)

    assert code == 2
    assert "holds DOGE/USDT" in output
    assert f"trading.symbol in {config} says ETH/USDT" in " ".join(output.split())


def test_backtest_timeframe_comes_from_the_timestamps_when_the_name_has_none(
    tmp_path: Path,
) -> None:
    data = doge_file(tmp_path, "DOGE_USDT.csv", bar_ms=4 * HOUR_MS)

    code, output = backtest("--data", data, "--report-dir", tmp_path / "r")

    assert code == 0, output
    assert "DOGE/USDT 4h: 1,500 bars" in output


def test_backtest_file_naming_no_market_asks_for_symbol(tmp_path: Path) -> None:
    data = write(make_candles(300, seed=1), tmp_path / "candles_1h.csv")

    code, output = backtest("--data", data)

    assert code == 2
    assert "cannot tell which market candles_1h.csv holds" in output
    assert "--symbol" in output


def test_backtest_name_and_timestamps_disagreeing_is_an_error_naming_both(tmp_path: Path) -> None:
    data = write(make_candles(300, seed=1, bar_ms=FIVE_MIN_MS), tmp_path / "BTCUSDT-1h.csv")

    code, output = backtest("--data", data)

    assert code == 2
    assert "the name says 1h candles but the timestamps are 5m apart" in output


# ----------------------------------------------------------------- item 3: resample, not drop
def test_backtest_coarser_timeframe_resamples_and_trades_like_the_resampled_file(
    tmp_path: Path,
) -> None:
    # Arrange: 5m candles, and the same candles resampled to 1h in a file of their own
    five = make_candles(12 * 1200, seed=4, start=40_000.0, volatility=0.004, bar_ms=FIVE_MIN_MS)
    data_5m = write(five, tmp_path / "BTCUSDT-5m.csv")
    data_1h = write(resample(five, "1h", "5m"), tmp_path / "BTCUSDT-1h.csv")

    # Act
    code, output = backtest(
        "--data", data_5m, "--timeframe", "1h", "--report-dir", tmp_path / "from5m"
    )
    code_1h, output_1h = backtest("--data", data_1h, "--report-dir", tmp_path / "from1h")

    # Assert
    assert code == 0, output
    assert code_1h == 0, output_1h
    assert "BTC/USDT 1h: 1,200 bars" in output
    assert "resampled 5m candles to 1h" in output
    from_5m = report_rows(tmp_path / "from5m", "trades.csv")
    assert from_5m
    assert from_5m == report_rows(tmp_path / "from1h", "trades.csv")


def test_backtest_finer_timeframe_than_the_file_is_refused_without_repair_advice(
    tmp_path: Path,
) -> None:
    data = write(make_candles(600, seed=4, bar_ms=FIVE_MIN_MS), tmp_path / "BTCUSDT-5m.csv")

    code, output = backtest("--data", data, "--timeframe", "1m")

    assert code == 2
    assert "holds 5m candles but --timeframe says 1m" in output
    assert "--repair" not in output


# ----------------------------------------------------------------- item 4: the whole file
def test_backtest_without_window_uses_the_whole_file(tmp_path: Path) -> None:
    # a file that crosses 2025: the old default window (2024) kept 288 of its 1,000 bars
    frame = make_candles(1000, seed=2, start=40_000.0, start_ms=DEC_20_2024_MS)
    data = write(frame, tmp_path / "BTCUSDT-1h.csv")

    code, output = backtest("--data", data, "--report-dir", tmp_path / "r")

    assert code == 0, output
    assert "BTC/USDT 1h: 1,000 bars" in output
    assert "note:" not in output


def test_backtest_window_leaving_out_bars_says_how_many_and_warns_short_metrics(
    tmp_path: Path,
) -> None:
    frame = make_candles(600, seed=2, start=40_000.0, start_ms=DEC_20_2024_MS)
    data = write(frame, tmp_path / "BTCUSDT-1h.csv")

    code, output = backtest("--data", data, "--start", "2025-01-10", "--report-dir", tmp_path)

    flat = " ".join(output.split())
    assert code == 0, output
    assert "BTC/USDT 1h: 96 bars" in flat
    assert "keeps 96 of the file's 600 bars" in flat
    assert "too few for meaningful metrics" in flat


def test_backtest_window_shorter_than_the_warmup_warns_it_cannot_trade(tmp_path: Path) -> None:
    frame = make_candles(600, seed=2, start=40_000.0, start_ms=DEC_20_2024_MS)
    data = write(frame, tmp_path / "BTCUSDT-1h.csv")

    code, output = backtest("--data", data, "--start", "2025-01-13", "--report-dir", tmp_path)

    flat = " ".join(output.split())
    assert code == 0, output
    assert "only 24 bars, but ema_crossover needs" in flat
    assert "it cannot trade" in flat


@pytest.mark.parametrize("window", [(), ("--start", "2024-03-01", "--end", "2024-04-01")])
def test_backtest_default_config_bundled_sample_is_unchanged(
    tmp_path: Path, window: tuple[str, ...]
) -> None:
    code, output = backtest(*window, "--report-dir", tmp_path)

    assert code == 0, output
    bars = "8,784" if not window else "744"
    assert f"BTC/USDT 1h: {bars} bars" in output
