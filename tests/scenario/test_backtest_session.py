"""run_backtest from a Config: the bundled sample end to end, and bad data refused by name."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factories import make_candles
from tradebot.backtest.report.records import iso_utc
from tradebot.backtest.session import run_backtest
from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import DataError


def test_run_backtest_default_config_writes_trades_csv_equal_to_trades(tmp_path: Path) -> None:
    # Act
    run = run_backtest(load_config(None), report_dir=tmp_path)

    # Assert
    result = run.result
    assert run.data_source.endswith("binance_BTC-USDT_1h_2024.csv.gz")
    assert result.n_bars == 8784
    assert result.trades
    with (tmp_path / "trades.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(result.trades)
    for row, trade in zip(rows, result.trades, strict=True):
        assert row["symbol"] == trade.symbol == "BTC/USDT"
        assert (int(row["entry_ts_ms"]), int(row["exit_ts_ms"])) == (
            trade.entry_ts_ms,
            trade.exit_ts_ms,
        )
        assert (row["entry_time"], row["exit_time"]) == (
            iso_utc(trade.entry_ts_ms),
            iso_utc(trade.exit_ts_ms),
        )
        assert Decimal(row["qty"]) == trade.qty
        assert Decimal(row["entry_price"]) == trade.entry_price
        assert Decimal(row["exit_price"]) == trade.exit_price
        assert Decimal(row["fees"]) == trade.fees
        assert Decimal(row["pnl"]) == trade.pnl
        assert row["exit_reason"] == trade.exit_reason
    assert (tmp_path / "report.html").stat().st_size > 0


def test_run_backtest_final_equity_is_cash_plus_trades_pnl() -> None:
    run = run_backtest(load_config(None))

    result = run.result
    open_qty = result.position_qty[-1]
    pnl = sum(float(t.pnl) for t in result.trades)
    if open_qty == 0:
        assert result.final_equity == pytest.approx(result.starting_cash + pnl, abs=1e-6)
    assert result.equity[0] == pytest.approx(result.starting_cash)


def write_bad(tmp_path: Path, kind: str) -> Path:
    frame = make_candles(400, seed=5, start=40_000.0)
    if kind == "duplicate":
        frame["ts_ms"] = frame["ts_ms"].where(frame.index != 120, frame["ts_ms"][119])
    else:
        frame["close"] = frame["close"].where(frame.index != 57, np.nan)
    path = tmp_path / f"bad_{kind}_1h.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("duplicate", "1 duplicate timestamps: rows 120 (2024-01-05 23:00 UTC)"),
        ("nan", "1 NaN values: rows 57 (2024-01-03 09:00 UTC)"),
    ],
)
def test_run_backtest_bad_data_is_refused_naming_rows(
    tmp_path: Path, kind: str, named: str
) -> None:
    config = with_overrides(
        load_config(None), {"backtest.data": str(write_bad(tmp_path, kind))}, "t"
    )

    with pytest.raises(DataError) as err:
        run_backtest(config)

    assert named in str(err.value)
    assert "repair='drop'" in str(err.value)


@pytest.mark.parametrize("kind", ["duplicate", "nan"])
def test_run_backtest_bad_data_with_drop_repair_runs_without_bad_row(
    tmp_path: Path, kind: str
) -> None:
    path = write_bad(tmp_path, kind)
    config = with_overrides(
        load_config(None), {"backtest.data": str(path), "backtest.data_repair": "drop"}, "t"
    )

    run = run_backtest(config)

    result = run.result
    assert result.n_bars == 399
    assert np.all(np.diff(result.ts_ms) > 0)
    assert np.isfinite(result.equity).all()
    assert run.data_source == str(path)


def test_run_backtest_given_frame_matches_the_same_frame_from_file(tmp_path: Path) -> None:
    frame = make_candles(1500, seed=9, start=40_000.0, volatility=0.01)
    path = tmp_path / "synthetic_1h.csv"
    frame.to_csv(path, index=False)
    config = with_overrides(load_config(None), {"backtest.data": str(path)}, "t")

    from_file = run_backtest(config).result
    from_frame = run_backtest(config, candles=pd.read_csv(path)).result

    assert from_file.trades == from_frame.trades
    assert np.array_equal(from_file.equity, from_frame.equity)
