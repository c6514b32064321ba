"""The report folder written from a hand-built backtest: files, values, masking and size."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

import numpy as np
import pytest
from rich.console import Console

from tradebot.backtest.metrics import compute_metrics
from tradebot.backtest.report import metrics_table, write_report
from tradebot.backtest.report.charts import decimate
from tradebot.backtest.report.writer import fill_reasons
from tradebot.backtest.result import BacktestResult, FloatArray, IntArray
from tradebot.domain.decisions import Decision, RiskCheck, RiskVerdict, Signal, SignalAction
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Portfolio

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
HOUR = 3_600_000
SECRET = "s3cr3t-api-value"
FEE_RATE = Decimal("0.001")
# (bar, side, qty, why): the second sell is a stop-loss, not a signal
PLAN = [(50, "buy", "0.1", "ema 12 crossed above ema 26"), (80, "sell", "0.1", "ema cross down")]
PLAN += [(150, "buy", "0.05", "ema 12 crossed above ema 26"), (170, "sell", "0.05", "stop")]


class Bars(TypedDict):
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray


def seeded_bars(n: int, seed: int = 7) -> Bars:
    rng = np.random.default_rng(seed)
    close = 42_000 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.concatenate(([42_000.0], close[:-1]))
    spread = np.abs(rng.normal(0, 40, n))
    return {
        "ts_ms": T0 + np.arange(n, dtype=np.int64) * HOUR,
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
    }


def make_fill(bar: int, side: str, qty: str, price: float) -> Fill:
    px = Decimal(f"{price:.2f}")
    return Fill(
        client_order_id=ClientOrderId(f"tb-{bar}-{side}"),
        symbol="BTC/USDT",
        side=OrderSide(side),
        qty=Decimal(qty),
        price=px,
        fee=(Decimal(qty) * px * FEE_RATE).quantize(Decimal("0.00000001")),
        fee_asset="USDT",
        ts_ms=T0 + bar * HOUR,
        trade_id=f"t{bar}",
    )


def make_decision(bar: int, fill: Fill, reason: str, portfolio: Portfolio) -> Decision:
    action = SignalAction.BUY if fill.side is OrderSide.BUY else SignalAction.SELL
    return Decision(
        ts_ms=T0 + (bar - 1) * HOUR,  # decided on the previous close, filled at this open
        symbol="BTC/USDT",
        signal=Signal(action, 0.8, reason, {"fast": 12.0, "api_token": SECRET}),
        indicators={"ema_fast": 42_100.5, "ema_slow": 42_050.25},
        verdict=RiskVerdict((RiskCheck("max_position_size", True, "0.1 ≤ 0.5"),)),
        action=f"place {fill.side.value}",
        client_order_ids=(fill.client_order_id,),
        equity=float(portfolio.cash),
        cash=float(portfolio.cash),
    )


def build_result(n: int = 300) -> BacktestResult:
    bars = seeded_bars(n)
    portfolio = Portfolio.with_cash(Decimal(10_000))
    fills, trades, decisions = [], [], []
    equity, held = np.empty(n), np.zeros(n)
    plan = {bar: (side, qty, why) for bar, side, qty, why in PLAN}
    for i in range(n):
        if i in plan:
            side, qty, why = plan[i]
            fill = make_fill(i, side, qty, bars["open"][i])
            decisions.append(make_decision(i, fill, why, portfolio))
            trade = portfolio.apply_fill(fill, "BTC", "USDT")
            fills.append(fill)
            if trade is not None:
                trades.append(replace(trade, exit_reason="stop_loss" if why == "stop" else why))
        pos = portfolio.position("BTC/USDT")
        held[i] = float(pos.qty) if pos else 0.0
        equity[i] = float(portfolio.cash) + held[i] * bars["close"][i]
    decisions.append(
        Decision(
            ts_ms=T0 + 200 * HOUR,
            symbol="BTC/USDT",
            signal=Signal(SignalAction.BUY, 0.4, "weak cross"),
            indicators={"ema_fast": math.nan, "ema_slow": 42_000.0},
            verdict=RiskVerdict.rejected("max_daily_loss", "daily loss 3.1% > 3%"),
            action="rejected",
        )
    )
    return BacktestResult(
        symbol="BTC/USDT",
        timeframe="1h",
        strategy_name="ema_crossover",
        strategy_config={"fast": 12, "slow": 26},
        starting_cash=10_000.0,
        equity=equity,
        position_qty=held,
        trades=trades,
        fills=fills,
        decisions=decisions,
        fees_paid=float(portfolio.fees),
        settings={"fee_rate": 0.001, "slippage_bps": 2.0, "exchange.api_key": SECRET},
        **bars,
    )


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    return build_result()


@pytest.fixture
def report_dir(tmp_path: Path, result: BacktestResult) -> Path:
    write_report(result, compute_metrics(result), tmp_path / "report")
    return tmp_path / "report"


def test_write_report_creates_every_file(tmp_path: Path, result: BacktestResult) -> None:
    # Act
    paths = write_report(result, compute_metrics(result), tmp_path / "new" / "dir")

    # Assert
    names = sorted(p.name for p in paths.directory.iterdir())
    assert names == sorted(
        ["report.html", "trades.csv", "fills.csv", "decisions.jsonl", "metrics.json"]
    )
    assert paths.html == tmp_path / "new" / "dir" / "report.html"


def test_write_report_trades_csv_has_exact_values_and_utc_times(
    report_dir: Path, result: BacktestResult
) -> None:
    # Act
    with (report_dir / "trades.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))

    # Assert
    assert len(rows) == 2
    first, second = rows
    assert first["entry_time"] == "2024-01-03T02:00:00Z"  # bar 50
    assert first["exit_time"] == "2024-01-04T08:00:00Z"  # bar 80
    assert first["entry_ts_ms"] == str(T0 + 50 * HOUR)
    assert first["qty"] == "0.1"
    assert first["entry_price"] == f"{result.open[50]:.2f}"
    assert Decimal(first["pnl"]) == result.trades[0].pnl
    assert first["pnl"] == format(result.trades[0].pnl, "f")
    assert first["exit_reason"] == "ema cross down"
    assert second["exit_reason"] == "stop_loss"
    assert float(second["duration_hours"]) == 20.0


def test_write_report_fills_csv_lists_each_fill(report_dir: Path) -> None:
    # Act
    with (report_dir / "fills.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))

    # Assert
    assert [r["side"] for r in rows] == ["buy", "sell", "buy", "sell"]
    assert rows[0]["client_order_id"] == "tb-50-buy"
    assert Decimal(rows[0]["fee"]) == (
        Decimal(rows[0]["qty"]) * Decimal(rows[0]["price"]) * FEE_RATE
    ).quantize(Decimal("0.00000001"))
    assert rows[3]["time"] == "2024-01-08T02:00:00Z"


def test_write_report_decisions_jsonl_one_record_per_decision(report_dir: Path) -> None:
    # Act
    lines = (report_dir / "decisions.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]

    # Assert
    assert len(records) == 5
    first = records[0]
    assert first["ts"] == "2024-01-03T01:00:00Z"
    assert first["ts_ms"] == T0 + 49 * HOUR
    assert first["signal"]["action"] == "BUY"
    assert first["signal"]["reason"] == "ema 12 crossed above ema 26"
    assert first["signal"]["metadata"] == {"fast": 12.0, "api_token": "***"}
    assert first["risk"] == {
        "approved": True,
        "checks": [{"name": "max_position_size", "passed": True, "detail": "0.1 ≤ 0.5"}],
    }
    assert first["client_order_ids"] == ["tb-50-buy"]
    assert first["cash"] == 10_000.0
    rejected = records[-1]
    assert rejected["indicators"] == {"ema_fast": None, "ema_slow": 42_000.0}
    assert rejected["risk"]["approved"] is False
    assert rejected["risk"]["checks"][0]["detail"] == "daily loss 3.1% > 3%"
    assert rejected["action"] == "rejected"


def test_write_report_metrics_json_matches_computed_metrics(
    report_dir: Path, result: BacktestResult
) -> None:
    # Arrange
    expected = compute_metrics(result)

    # Act
    record = json.loads((report_dir / "metrics.json").read_text())

    # Assert
    assert record["symbol"] == "BTC/USDT"
    assert record["strategy_config"] == {"fast": 12, "slow": 26}
    assert record["start"] == "2024-01-01T00:00:00Z"
    assert record["bars"] == 300
    assert record["metrics"]["total_trades"] == 2
    assert record["metrics"]["total_return_pct"] == pytest.approx(expected.total_return_pct)
    assert record["metrics"]["avg_slippage_bps"] == 2.0
    fees = float(sum(t.fees for t in result.trades))
    assert record["metrics"]["total_fees"] == pytest.approx(fees)
    assert record["settings"]["exchange.api_key"] == "***"


def test_write_report_secret_values_appear_in_no_file(report_dir: Path) -> None:
    # Act
    leaks = [p.name for p in report_dir.iterdir() if SECRET in p.read_text(encoding="utf-8")]

    # Assert
    assert leaks == []


def test_write_report_html_is_self_contained_with_charts_and_trades(
    report_dir: Path, result: BacktestResult
) -> None:
    # Act
    html = (report_dir / "report.html").read_text(encoding="utf-8")

    # Assert
    assert 'id="tradebot-charts"' in html
    assert "plotly-graph-div" in html
    assert "<script src=" not in html  # plotly.js is inline: no CDN, works offline
    assert "Backtest: BTC/USDT 1h" in html
    assert "2024-01-01 00:00 UTC → 2024-01-13 11:00 UTC" in html
    assert "fast=12, slow=26" in html
    assert "<th>Buy &amp; hold</th>" in html
    assert html.count("<tr><td>1</td>") == 1
    assert html.count("<tr><td>2</td>") == 1
    assert "stop_loss" in html
    assert "triangle-up" in html
    assert "triangle-down" in html
    assert '"type":"candlestick"' in html


def test_write_report_no_trades_says_so(tmp_path: Path) -> None:
    # Arrange
    bars = seeded_bars(50)
    empty = BacktestResult(
        symbol="ETH/USDT",
        timeframe="1h",
        strategy_name="breakout",
        strategy_config={},
        starting_cash=1_000.0,
        equity=np.full(50, 1_000.0),
        position_qty=np.zeros(50),
        trades=[],
        fills=[],
        decisions=[],
        fees_paid=0.0,
        **bars,
    )

    # Act
    paths = write_report(empty, compute_metrics(empty), tmp_path)

    # Assert
    assert "No trades were closed." in paths.html.read_text(encoding="utf-8")
    assert paths.trades_csv.read_text().splitlines() == [
        "symbol,entry_time,entry_ts_ms,exit_time,exit_ts_ms,qty,entry_price,exit_price,"
        "fees,pnl,return_pct,duration_hours,exit_reason,entry_signal,mae_pct,mfe_pct,entry_regime"
    ]
    assert paths.decisions_jsonl.read_text() == ""
    assert json.loads(paths.metrics_json.read_text())["metrics"]["profit_factor"] is None


def test_write_report_year_of_minute_bars_stays_under_10_mb(tmp_path: Path) -> None:
    # Arrange: 527,040 one-minute bars (2024) with the same two trades
    n = 527_040
    small = build_result()
    bars = seeded_bars(n)
    bars["ts_ms"] = T0 + np.arange(n, dtype=np.int64) * 60_000
    big = replace(small, equity=np.resize(small.equity, n), position_qty=np.zeros(n), **bars)

    # Act
    paths = write_report(big, compute_metrics(big), tmp_path)

    # Assert
    size_mb = paths.html.stat().st_size / 1e6
    assert size_mb < 10, f"report.html is {size_mb:.1f} MB"
    html = paths.html.read_text(encoding="utf-8")
    assert '"type":"candlestick"' not in html
    assert "USDT close" in html  # the decimated close line (plotly escapes the slash)


def test_fill_reasons_sell_takes_trade_exit_reason(result: BacktestResult) -> None:
    # Act
    reasons = fill_reasons(result)

    # Assert
    assert reasons["tb-50-buy"] == "ema 12 crossed above ema 26"
    assert reasons["tb-80-sell"] == "ema cross down"
    assert reasons["tb-170-sell"] == "stop_loss"


def test_decimate_keeps_extremes_within_budget() -> None:
    # Arrange
    values = np.sin(np.linspace(0, 50, 100_001))
    values[12_345] = 9.0
    values[67_891] = -9.0

    # Act
    keep = decimate(values, 1_000)

    # Assert
    assert len(keep) <= 1_002
    assert {0, 12_345, 67_891, 100_000} <= set(keep.tolist())
    assert np.all(np.diff(keep) > 0)


def test_decimate_short_series_keeps_everything() -> None:
    assert decimate(np.arange(10.0), 100).tolist() == list(range(10))


def test_metrics_table_renders_strategy_beside_buy_and_hold(result: BacktestResult) -> None:
    # Arrange
    metrics = compute_metrics(result)
    console = Console(record=True, width=100, color_system=None)

    # Act
    console.print(metrics_table(metrics))
    text = console.export_text()

    # Assert
    assert "Buy & hold" in text
    line = next(row for row in text.splitlines() if "Total return" in row)
    assert f"{metrics.total_return_pct:,.2f}%" in line
    assert f"{metrics.buy_and_hold_return_pct:,.2f}%" in line
