"""``tradebot ml evaluate`` on the bundled sample: scores printed, failures with counts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.data.load import sample_path

BTC_1H = str(Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz"))))


def test_cli_ml_evaluate_prints_scores_balance_and_calibration() -> None:
    args = ["ml", "evaluate", "--data", BTC_1H, "--model", "logistic", "--test-bars", "2000"]

    result = CliRunner().invoke(build_app(), args)

    assert result.exit_code == 0, result.output
    assert "4 folds" in result.output
    assert "up share train" in result.output
    assert "AUC" in result.output
    assert "calibration" in result.output


def test_cli_ml_evaluate_too_few_rows_exits_2_with_counts() -> None:
    args = ["ml", "evaluate", "--data", BTC_1H, "--train-bars", "60", "--horizon", "24"]

    result = CliRunner().invoke(build_app(), args)

    assert result.exit_code == 2
    assert "too few rows to train at bar 60: window 60, with features 12" in result.output
