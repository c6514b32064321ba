"""What a trader checks in the report's tables and charts, against hand computations:
monthly returns, MAE/MFE of a trade, normalised curves, trades grouped by exit reason and
entry signal, and the markers of a 10,000-trade run."""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from factories import round_trips_result
from tradebot.backtest.breakdown import entry_signals, signal_kind
from tradebot.backtest.excursions import PriceRange, excursions
from tradebot.backtest.metrics import compute_metrics
from tradebot.backtest.monthly import period_returns
from tradebot.backtest.report import write_report
from tradebot.backtest.report.charts import build_figure
from tradebot.backtest.report.markers import BUCKETS, ENTRY_NAME, EXIT_NAME
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.session import run_backtest
from tradebot.config import load_config, with_overrides
from tradebot.domain.decisions import Decision, Signal, SignalAction
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Trade

HOUR = 3_600_000
JAN_15 = 1_705_276_800_000  # 2024-01-15 00:00 UTC
FEB_1 = 1_706_745_600_000
MAR_1 = 1_709_251_200_000


def flat_result(ts: np.ndarray, equity: np.ndarray, **fields: object) -> BacktestResult:
    close = np.full(len(ts), 100.0)
    base: dict[str, object] = {
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "strategy_name": "hand",
        "strategy_config": {},
        "starting_cash": 10_000.0,
        "ts_ms": ts,
        "open": close,
        "high": close + 1,
        "low": close - 1,
        "close": close,
        "equity": equity,
        "position_qty": np.zeros(len(ts)),
        "trades": [],
        "fills": [],
        "decisions": [],
        "fees_paid": 0.0,
    }
    base.update(fields)
    return BacktestResult(**base)  # type: ignore[arg-type]


def month_run() -> BacktestResult:
    # Hourly bars from 15 Jan to 10 Mar 2024; the month ends close at 11,000 (Jan), 9,900
    # (Feb) and the run ends at 10,395: +10 %, -10 %, +5 %, and the year 10,395 / 10,000.
    ts = np.arange(JAN_15, MAR_1 + 10 * 24 * HOUR, HOUR, dtype=np.int64)
    equity = np.where(ts < FEB_1, 10_500.0, np.where(ts < MAR_1, 10_200.0, 10_100.0))
    equity[np.searchsorted(ts, FEB_1) - 1] = 11_000.0
    equity[np.searchsorted(ts, MAR_1) - 1] = 9_900.0
    equity[-1] = 10_395.0
    return flat_result(ts, equity)


def cells(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert body is not None, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [[re.sub(r"<.*?>", "", c) for c in re.findall(r"<td.*?</td>", r)] for r in rows]


def test_monthly_table_matches_hand_computed_month_ends(tmp_path: Path) -> None:
    # Arrange
    result = month_run()

    # Act
    html = write_report(result, compute_metrics(result), tmp_path).html.read_text()

    # Assert
    [row] = cells(html, "monthly")
    assert row[0] == "2024"
    assert row[1:4] == ["+10.00", "-10.00", "+5.00"]
    assert row[4:13] == [""] * 9
    assert row[13] == "+3.95"  # 10,395 / 10,000 - 1: the months compound to the year


def test_period_returns_months_multiply_to_the_total_return() -> None:
    # Arrange
    result = month_run()

    # Act
    found = period_returns(result.ts_ms, result.equity, result.starting_cash)

    # Assert
    growth = np.prod([1 + r / 100 for r in found.months.values()])
    assert growth - 1 == pytest.approx(compute_metrics(result).total_return_pct / 100)
    assert list(found.months) == [(2024, 1), (2024, 2), (2024, 3)]


def test_excursions_hand_built_trade_counts_only_its_own_bars() -> None:
    # Arrange: bought at 100 at bar 2's open, sold at bar 5; bars 1 and 6 swing far more
    t0 = JAN_15
    ts = t0 + np.arange(8, dtype=np.int64) * HOUR
    low = np.array([99, 80, 97, 95, 98, 101, 60, 99], dtype=np.float64)
    high = np.array([101, 150, 104, 103, 112, 109, 150, 101], dtype=np.float64)
    trade = Trade(
        "BTC/USDT", int(ts[2]), int(ts[5]), Decimal(1), Decimal(100), Decimal(105),
        Decimal("0.2"), Decimal("4.8"), "signal",
    )  # fmt: skip

    # Act
    [move] = excursions([trade], {"BTC/USDT": PriceRange(ts, high, low)})

    # Assert: lowest low 95 (bar 3), highest high 112 (bar 4)
    assert move is not None
    assert move.mae_pct == pytest.approx(-5.0)
    assert move.mfe_pct == pytest.approx(12.0)


def test_excursions_trade_never_under_its_entry_has_zero_mae() -> None:
    ts = JAN_15 + np.arange(3, dtype=np.int64) * HOUR
    trade = Trade(
        "ETH/USDT", int(ts[0]), int(ts[2]), Decimal(1), Decimal(10), Decimal(11),
        Decimal(0), Decimal(1),
    )  # fmt: skip
    prices = PriceRange(ts, np.array([11.0, 12, 11.5]), np.array([10.0, 10.5, 10.8]))

    [move] = excursions([trade], {"ETH/USDT": prices})

    assert move is not None
    assert (move.mae_pct, move.mfe_pct) == (0.0, pytest.approx(20.0))


def test_build_figure_equity_and_buy_and_hold_start_at_one() -> None:
    # Arrange: a run that trades nothing on its first bar; the price doubles
    ts = JAN_15 + np.arange(100, dtype=np.int64) * HOUR
    close = np.linspace(100.0, 200.0, 100)
    equity = np.linspace(10_000.0, 13_000.0, 100)
    result = flat_result(ts, equity, open=close, close=close, high=close, low=close)

    # Act
    fig = build_figure(result, {})

    # Assert
    curves = {t.name: np.asarray(t.y) for t in fig.data if t.name and t.name.startswith("equity")}
    assert curves["equity: strategy"][0] == 1.0
    assert curves["equity: buy & hold"][0] == 1.0
    assert curves["equity: strategy"][-1] == pytest.approx(1.3)
    assert curves["equity: buy & hold"][-1] == pytest.approx(2.0)
    axis = fig.layout.updatemenus[0].buttons[1].args[0]
    assert list(axis.values()) == ["log"]  # the log button acts on the equity panel's axis
    assert fig.layout[next(iter(axis)).split(".")[0]].title.text == "× start"


def test_signal_kind_drops_measured_values_keeps_parameters() -> None:
    reason = "EMA12 golden cross EMA26 (42100.50 vs 42050.25), RSI14=55.1"
    assert signal_kind(reason) == "EMA12 golden cross EMA26 (… vs …), RSI14=…"
    assert signal_kind("close 101.20 broke the 20-bar high 100.00") == (
        "close … broke the 20-bar high …"
    )


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> tuple[BacktestResult, str, Path]:
    config = with_overrides(
        load_config(None), {"backtest.start": "2024-01-01", "backtest.end": "2024-04-01"}, "test"
    )
    out = tmp_path_factory.mktemp("quarter")
    run = run_backtest(config, report_dir=out)
    return run.result, (out / "report.html").read_text(encoding="utf-8"), out


def test_report_by_exit_reason_counts_equal_the_trades_csv(
    quarter: tuple[BacktestResult, str, Path],
) -> None:
    # Arrange
    result, html, out = quarter
    with (out / "trades.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    # Act
    table = {
        row[0]: (int(row[1]), float(row[3].replace(",", ""))) for row in cells(html, "by-exit")
    }

    # Assert
    counted = Counter(r["exit_reason"] for r in rows)
    assert {k: n for k, (n, _) in table.items()} == dict(counted)
    assert set(counted) == {"signal", "stop_loss"}  # the default config's ATR stop fires
    for reason, (_, pnl) in table.items():
        expected = sum(Decimal(r["pnl"]) for r in rows if r["exit_reason"] == reason)
        assert pnl == pytest.approx(float(expected), abs=0.01)
    assert sum(n for n, _ in table.values()) == len(result.trades)


def test_report_by_entry_signal_names_the_rule_that_opened_each_trade(
    quarter: tuple[BacktestResult, str, Path],
) -> None:
    result, html, _ = quarter

    table = cells(html, "by-entry")

    assert [(row[0], int(row[1])) for row in table] == [
        ("EMA12 golden cross EMA26 (… vs …), RSI14=…", len(result.trades))
    ]


def test_entry_signals_trade_without_its_decision_says_so() -> None:
    fill = Fill(
        ClientOrderId("a"), "BTC/USDT", OrderSide.BUY, Decimal(1), Decimal(1), Decimal(0), "USDT", 5
    )
    trade = Trade("BTC/USDT", 5, 9, Decimal(1), Decimal(1), Decimal(1), Decimal(0), Decimal(0))
    other = Decision(
        4, "BTC/USDT", Signal(SignalAction.BUY, 1.0, "x"), {}, None, "buy", (ClientOrderId("b"),)
    )

    assert entry_signals([trade], [fill], [other]) == ["(no decision found)"]


def test_build_figure_ten_thousand_trades_draws_buckets_not_each_fill() -> None:
    # Arrange
    result = round_trips_result(10_000)

    # Act
    fig = build_figure(result, {})

    # Assert: one marker per stretch and side, entries under the price and exits over it
    marks = {t.name: t for t in fig.data if t.name in (ENTRY_NAME, EXIT_NAME)}
    assert 0 < len(marks[ENTRY_NAME].x) <= BUCKETS
    assert 0 < len(marks[EXIT_NAME].x) <= BUCKETS
    assert all(y < result.low.min() for y in marks[ENTRY_NAME].y[:1])
    assert sum(int(t.split(" ")[0].replace(",", "")) for t in marks[ENTRY_NAME].text) == 10_000


def test_write_report_ten_thousand_trades_lists_the_first_thousand(tmp_path: Path) -> None:
    # Arrange
    result = round_trips_result(10_000)

    # Act
    paths = write_report(result, compute_metrics(result), tmp_path)

    # Assert: the page stays quick to open; trades.csv keeps every trade
    html = paths.html.read_text(encoding="utf-8")
    assert len(cells(html, "trades")) == 1_000
    assert "The first 1,000 of 10,000 trades are shown; trades.csv holds them all." in html
    assert len(paths.trades_csv.read_text().splitlines()) == 10_001
    assert paths.html.stat().st_size < 8_000_000
