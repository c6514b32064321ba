"""``tradebot strategies`` and ``tradebot lookahead-check`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from strategy_candles import HONEST, PEEKING
from typer.testing import CliRunner

from tradebot.cli import strategy as strategy_cli


@pytest.fixture
def app() -> typer.Typer:
    """A typer app with only the strategy commands registered."""
    app = typer.Typer()
    strategy_cli.register(app)
    return app


@pytest.fixture
def csv_path(tmp_path: Path, btc_3000: pd.DataFrame) -> Path:
    """The first 3,000 bundled BTC bars written as a normalized candle CSV."""
    path = tmp_path / "binance_BTC-USDT_1h.csv"
    btc_3000.rename(columns={"ts_ms": "timestamp"}).to_csv(path, index=False)
    return path


def test_strategies_lists_each_builtin_with_defaults(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["strategies"])
    assert result.exit_code == 0
    for text in ("ema_crossover", "rsi_mean_reversion", "breakout", "fast_period=12", "period=20"):
        assert text in result.output


def test_lookahead_check_builtin_on_csv_exits_zero(app: typer.Typer, csv_path: Path) -> None:
    args = ["lookahead-check", "ema_crossover", "--data", str(csv_path), "-p", "fast_period=5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ema_crossover: 3000 bars, " in result.output
    assert "40 random, 29 warm-up)" in result.output
    assert "no lookahead found" in result.output
    assert "the live window gives the backtest's values" in result.output


def test_lookahead_check_peeking_file_exits_one_with_table(
    app: typer.Typer, csv_path: Path
) -> None:
    args = ["lookahead-check", f"{PEEKING}:ShiftMinusOne", "--data", str(csv_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "lookahead found: 5 finding(s)" in result.output  # x, and the signal asked 4 ways
    assert "│ indicator │ x " in result.output
    assert "nan" in result.output


def test_lookahead_check_bad_param_exits_two_naming_it(app: typer.Typer, csv_path: Path) -> None:
    args = ["lookahead-check", "breakout", "--data", str(csv_path), "--param", "period=0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "period must be in [1, 10000], got 0" in result.output


def test_lookahead_check_default_data_is_the_bundled_sample(app: typer.Typer) -> None:
    args = ["lookahead-check", "breakout", "--cuts", "5", "--no-recursive"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "breakout: 8784 bars, " in result.output
    assert "5 random, 24 warm-up)" in result.output
    assert "warm-up: " not in result.output


def test_lookahead_check_gappy_data_refused_unless_repaired(
    app: typer.Typer, tmp_path: Path, btc_3000: pd.DataFrame
) -> None:
    path = tmp_path / "binance_BTC-USDT_1h.csv"
    gappy = btc_3000.drop(index=range(1000, 1005))
    gappy.rename(columns={"ts_ms": "timestamp"}).to_csv(path, index=False)
    refused = CliRunner().invoke(app, ["lookahead-check", "breakout", "--data", str(path)])
    args = ["lookahead-check", "breakout", "--data", str(path), "--repair", "ffill"]
    repaired = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert "5 missing candle" in refused.output
    assert repaired.exit_code == 0, repaired.output
    assert "breakout: 3000 bars" in repaired.output


def test_lookahead_check_window_too_short_exits_one_naming_the_bars_needed(
    app: typer.Typer, csv_path: Path
) -> None:
    # An honest strategy whose expanding mean never forgets the start of the data.
    args = ["lookahead-check", f"{HONEST}:ExpandingZScore", "--data", str(csv_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "no lookahead found" in result.output
    assert "the live window is too short: use indicators that forget their start" in result.output


@pytest.fixture
def short_csv(tmp_path: Path, btc_3000: pd.DataFrame) -> Path:
    """300 bundled BTC bars: enough for an ensemble of quick members."""
    path = tmp_path / "binance_BTC-USDT_1h.csv"
    btc_3000.iloc[:300].rename(columns={"ts_ms": "timestamp"}).to_csv(path, index=False)
    return path


def ensemble_config(tmp_path: Path, second: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(
        "trading: {symbols: [BTC/USDT, ETH/USDT]}\n"
        "strategy:\n"
        "  symbols:\n"
        "    ETH/USDT:\n"
        "      ensemble:\n"
        "        mode: vote\n"
        "        k: 2\n"
        "        members:\n"
        "          - {name: breakout, params: {period: 10, exit_period: 5}}\n"
        f"          - {{name: '{second}'}}\n",
        encoding="utf-8",
    )
    return path


def test_lookahead_check_config_checks_a_symbols_ensemble(
    app: typer.Typer, tmp_path: Path, short_csv: Path
) -> None:
    honest = ensemble_config(tmp_path, "ema_crossover", "honest.yaml")
    peeking = ensemble_config(tmp_path, f"{PEEKING}:ShiftMinusOne", "peeking.yaml")
    args = ["lookahead-check", "--symbol", "ETH/USDT", "--data", str(short_csv)]
    args += ["--cuts", "3", "--signal-bars", "20"]

    passed = CliRunner().invoke(app, [*args, "-c", str(honest)])
    found = CliRunner().invoke(app, [*args, "-c", str(peeking)])
    other = CliRunner().invoke(app, [*args[:2], "DOGE/USDT", *args[3:], "-c", str(honest)])

    assert passed.exit_code == 0, passed.output
    assert "ensemble: 300 bars" in passed.output
    assert "no lookahead found" in passed.output
    assert found.exit_code == 1, found.output
    assert "shift_minus_one.x" in found.output
    assert other.exit_code == 2
    assert "--symbol DOGE/USDT" in other.output
