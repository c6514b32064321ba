"""``tradebot data ...`` end to end through typer, on files and a real SQLite store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.data.load import load_candles, sample_path, write_candle_file

MakeCandles = Callable[..., pd.DataFrame]
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_app(), list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_data_check_bundled_sample_is_tradeable() -> None:
    code, out = _run("data", "check", "binance_ETH-USDT_1h_2024Q4.csv.gz")
    assert code == 0
    assert "2,208 1h candles, 2024-10-01 00:00 UTC → 2024-12-31 23:00 UTC: tradeable" in out


def test_data_check_gappy_file_exits_1_then_ffill_passes(
    tmp_path: Path, make_candles: MakeCandles
) -> None:
    # Arrange: minutes 10..12 missing
    path = tmp_path / "gappy_BTC-USDT_1m.csv.gz"
    write_candle_file(make_candles(60).drop(index=[10, 11, 12]), path)
    fixed = tmp_path / "fixed_1m.parquet"
    # Act
    code, out = _run("data", "check", str(path))
    code_fixed, out_fixed = _run(
        "data", "check", str(path), "--repair", "ffill", "--output", str(fixed)
    )
    # Assert
    assert code == 1
    assert "NOT tradeable" in out
    assert "3 missing candle(s) 2024-01-01 00:10 UTC → 2024-01-01 00:12 UTC" in out
    assert code_fixed == 0
    assert "after --repair ffill: 60 1m candles" in out_fixed
    assert len(load_candles(fixed)) == 60


def test_data_import_list_export_round_trip(tmp_path: Path, make_candles: MakeCandles) -> None:
    # Arrange
    db = str(tmp_path / "store" / "candles.db")
    source = tmp_path / "x_BTC-USDT_1m.csv.gz"
    frame = make_candles(120)
    write_candle_file(frame, source)
    target = tmp_path / "out.parquet"
    # Act
    code_import, out_import = _run(
        "data", "import", str(source), "--symbol", "BTC/USDT", "--db", db
    )
    code_list, out_list = _run("data", "list", "--db", db)
    code_export, _ = _run(
        "data", "export", str(target), "--symbol", "BTC/USDT", "--timeframe", "1m",
        "--start", "2024-01-01T01:00", "--db", db,
    )  # fmt: skip
    code_archive, out_archive = _run(
        "data", "archive", "--symbol", "BTC/USDT", "--timeframe", "1m",
        "--before", "2024-01-01T00:30", "--db", db,
    )  # fmt: skip
    code_check, out_check = _run("data", "check", "BTC/USDT", "--timeframe", "1m", "--db", db)
    # Assert
    assert (code_import, code_list, code_export, code_archive, code_check) == (0, 0, 0, 0, 0)
    assert "archived 30 BTC/USDT 1m candles" in out_archive
    assert "imported 120 BTC/USDT 1m candles" in out_import
    assert "BTC/USDT" in out_list
    assert "2024-01-01 01:59 UTC" in out_list
    assert "binance_BTC-USDT_1m_2024-12.csv.gz" in out_list
    pd.testing.assert_frame_equal(load_candles(target), frame.iloc[60:].reset_index(drop=True))
    assert "BTC/USDT 1m: 120 1m candles" in out_check


def test_data_import_bad_file_exits_1_with_reason(
    tmp_path: Path, make_candles: MakeCandles
) -> None:
    frame = make_candles(30)
    frame.loc[4, "high"] = 1.0
    source = tmp_path / "bad_1m.csv"
    write_candle_file(frame, source)
    code, out = _run(
        "data", "import", str(source), "--symbol", "BTC/USDT", "--db", str(tmp_path / "d.db")
    )
    assert code == 1
    assert "OHLC inconsistent" in out
    assert "rows 4 (2024-01-01 00:04 UTC)" in out


def test_data_check_unknown_symbol_without_store_exits_2(tmp_path: Path) -> None:
    code, out = _run(
        "data", "check", "DOGE/USDT", "--timeframe", "1m", "--db", str(tmp_path / "none.db")
    )
    assert code == 2
    assert "no candle store at" in out


def test_data_check_against_lower_file_reports_agreement(tmp_path: Path) -> None:
    # the bundled 1h year against the bundled December of 1m candles
    lower = tmp_path / "btc_1m.parquet"
    write_candle_file(load_candles(sample_path("binance_BTC-USDT_1m_2024-12.csv.gz")), lower)
    code, out = _run(
        "data", "check", "binance_BTC-USDT_1h_2024.csv.gz", "--against", str(lower)
    )  # fmt: skip
    assert code == 0
    assert "744 overlapping bars agree" in out


# ------------------------------------------------ issue 11 item 6: what data check must say
def test_data_check_header_only_file_is_not_tradeable(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    path.write_text("timestamp,open,high,low,close,volume\n", encoding="utf-8")

    code, out = _run("data", "check", str(path))

    assert code == 1
    assert "0 1h candles, no rows: NOT tradeable" in out
    assert "no candles" in out


def test_data_check_text_in_a_number_column_names_the_row_and_line(
    tmp_path: Path, make_candles: MakeCandles
) -> None:
    # Arrange: data row 7 (line 9: the header is line 1) has a decimal comma in its close
    path = tmp_path / "BTCUSDT-1m.csv"
    frame = make_candles(20).rename(columns={"ts_ms": "timestamp"}).astype({"close": object})
    frame.loc[7, "close"] = "99,5"
    frame.to_csv(path, index=False)

    code, out = _run("data", "check", str(path))

    flat = " ".join(out.split())
    assert code == 2
    assert "row 7 (line 9), column close: '99,5' is not a number" in flat


def test_data_check_timestamps_in_seconds_get_a_hint(
    tmp_path: Path, make_candles: MakeCandles
) -> None:
    path = tmp_path / "BTCUSDT-1m.csv"
    frame = make_candles(20)
    frame["ts_ms"] //= 1000
    frame.rename(columns={"ts_ms": "timestamp"}).to_csv(path, index=False)

    code, out = _run("data", "check", str(path))

    flat = " ".join(out.split())
    assert code == 2
    assert "timestamps look like seconds" in flat
    assert "multiply by 1000" in flat


def test_data_check_finer_candles_than_the_timeframe_hint_resampling_not_repair(
    tmp_path: Path, make_candles: MakeCandles
) -> None:
    path = tmp_path / "BTCUSDT-5m.csv"
    write_candle_file(make_candles(240, "5m"), path)

    code, out = _run("data", "check", str(path), "--timeframe", "1h")
    code_drop, out_drop = _run("data", "check", str(path), "--timeframe", "1h", "--repair", "drop")

    flat = " ".join(out.split())
    assert code == 1
    assert "the timestamps are 5m apart, not 1h" in flat
    assert code_drop == 2
    assert "repair 'drop' refused" in " ".join(out_drop.split())
