"""``tradebot backtest --trade-from/--warmup-bars``: trading starts at a given bar, the bars
before it only warm the indicators up, so a backtest is like-for-like with a bot started there.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tradebot.backtest.markets import backtest_market
from tradebot.backtest.session import run_backtest, simulate
from tradebot.cli import build_app
from tradebot.config import load_config, with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.domain.errors import ConfigError
from tradebot.domain.portfolio import Portfolio
from tradebot.orchestrator.assembly import build_engine

SAMPLE = sample_path("binance_BTC-USDT_1h_2024.csv.gz")
MARCH_1 = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)


def backtest(*args: str) -> tuple[int, str]:
    """Run ``tradebot backtest`` in-process; return the exit code and the output."""
    result = CliRunner().invoke(build_app(), ["backtest", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_cli_trade_from_first_trade_not_before_it_and_report_starts_there(
    tmp_path: Path,
) -> None:
    # Act
    code, out = backtest("--trade-from", "2024-03-01T00:00", "--report-dir", str(tmp_path))

    # Assert
    assert code == 0, out
    text = " ".join(out.split())
    assert "trading from 2024-03-01 00:00 UTC (bar 1,440 of the data)" in text
    assert "the 1,440 bars before it only warm the indicators up" in text
    latest = tmp_path / "latest"
    with (latest / "trades.csv").open(encoding="utf-8", newline="") as f:
        trades = list(csv.DictReader(f))
    assert trades
    assert min(int(t["entry_ts_ms"]) for t in trades) >= MARCH_1
    metrics = json.loads((latest / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["start"].startswith("2024-03-01T00:00")


def test_trade_from_indicators_at_start_equal_a_run_over_the_whole_file() -> None:
    # Arrange
    config = with_overrides(load_config(None), {"backtest.trade_from": "2024-03-01"}, "test")
    whole = load_candles(SAMPLE)
    engine = build_engine(
        config,
        backtest_market("BTC/USDT", whole["close"].to_numpy()),
        Portfolio.with_cash(config.trading.starting_cash),
        record_holds=False,
    )
    whole_bars = engine.prepare(whole)

    # Act
    run = run_backtest(config)

    # Assert: every decision, the first one at the start included, saw the indicator values
    # a backtest of the whole file computes at that bar
    decisions = run.result.decisions
    assert decisions
    assert decisions[0].ts_ms >= MARCH_1
    index = {int(ts): i for i, ts in enumerate(whole_bars.ts_ms)}
    for decision in decisions[:20]:
        assert decision.indicators == whole_bars.row(index[decision.ts_ms])
    assert run.result.ts_ms[0] == MARCH_1
    assert run.result.equity[0] == pytest.approx(float(config.trading.starting_cash))


def test_warmup_bars_trades_equal_simulate_from_that_bar() -> None:
    # Arrange: what the paper parity check backtests, a bot started at bar 400
    config = with_overrides(load_config(None), {"backtest.warmup_bars": 400}, "test")
    candles = load_candles(SAMPLE)

    # Act
    run = run_backtest(config)
    expected, _ = simulate(config, candles, start_index=400)

    # Assert
    assert run.result.trades == expected.trades
    assert run.result.trades[0].entry_ts_ms > int(candles["ts_ms"].iat[400])
    assert run.result.n_bars == len(candles) - 400
    assert run.result.settings["warmup_bars"] == 400


def test_trade_from_with_warmup_bars_keeps_that_many_bars_before_it() -> None:
    # Arrange
    updates = {"backtest.trade_from": "2024-03-01", "backtest.warmup_bars": 300}
    config = with_overrides(load_config(None), updates, "test")
    candles = load_candles(SAMPLE)
    start = int(np.searchsorted(candles["ts_ms"].to_numpy(), MARCH_1))

    # Act
    run = run_backtest(config)
    expected, _ = simulate(
        config, candles.iloc[start - 300 :].reset_index(drop=True), start_index=300
    )

    # Assert
    assert run.result.ts_ms[0] == MARCH_1
    assert run.result.trades == expected.trades
    assert any("the 300 bars before it only warm" in n for n in run.notes)
    assert any(
        n.startswith("300 bars before --trade-from, to the end, keeps 7,644 of the file's 8,784")
        for n in run.notes
    )


def test_trade_from_after_the_data_is_refused_naming_the_span() -> None:
    config = with_overrides(load_config(None), {"backtest.trade_from": "2025-06-01"}, "test")

    with pytest.raises(ConfigError, match=r"no bar at or after trade_from=2025-06-01 00:00 UTC"):
        run_backtest(config)


def test_warmup_bars_longer_than_the_data_is_refused() -> None:
    config = with_overrides(load_config(None), {"backtest.warmup_bars": 9000}, "test")

    with pytest.raises(ConfigError, match=r"--warmup-bars 9000 leaves no bar to trade"):
        run_backtest(config)


def test_cli_start_trade_from_and_warmup_bars_together_are_refused(tmp_path: Path) -> None:
    code, out = backtest(
        "--start", "2024-01-01", "--trade-from", "2024-03-01", "--warmup-bars", "100",
        "--report-dir", str(tmp_path),
    )  # fmt: skip

    assert code == 2
    assert "start and warmup_bars both say where the data begins" in " ".join(out.split())


def test_cli_trade_from_before_start_is_refused(tmp_path: Path) -> None:
    code, out = backtest(
        "--start", "2024-03-01", "--trade-from", "2024-02-01", "--report-dir", str(tmp_path)
    )

    assert code == 2
    assert "is before start" in " ".join(out.split())
