"""``tradebot ml`` on the bundled sample: scores printed, models kept and promoted, failures
with counts, a changed model file refused."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.data.load import sample_path
from tradebot.ml.registry import ModelRegistry
from tradebot.state.model_registry import ModelStatus

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


WIDE = {"COLUMNS": "200"}  # rich tables wide enough to read back
JUNE = ["--data", BTC_1H, "--start", "2024-06-01", "--end", "2024-07-01"]
SMALL = ["--horizon", "6", "--trees", "10", "--train-bars", "300", "--test-bars", "200"]


def _train(db: Path, *flags: str) -> Result:
    args = ["ml", "train", *JUNE, *SMALL, "--name", "btc", "--db", str(db), *flags]
    return CliRunner().invoke(build_app(), args, env=WIDE)


def test_cli_ml_train_list_promote_keeps_the_model_and_its_scores(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "state.db"

    # Act
    first = _train(db)
    second = _train(db, "--model", "lightgbm")
    promoted = CliRunner().invoke(
        build_app(), ["ml", "promote", "btc-2", "--db", str(db)], env=WIDE
    )
    listed = CliRunner().invoke(build_app(), ["ml", "list", "--db", str(db)], env=WIDE)

    # Assert: the rows, the files and what the commands printed
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "registered btc-1 (candidate): random_forest on binance_BTC-USDT_1h_2024.csv.gz" in (
        first.output
    )
    assert "trained until 2024-06-30 23:00 UTC on 295 rows" in first.output
    assert "log loss" in first.output
    assert "calibration" in first.output
    registry = ModelRegistry.open(db)
    btc1, btc2 = registry.models("btc")
    registry.close()
    assert (btc1.status, btc2.status) == (ModelStatus.CANDIDATE, ModelStatus.PROMOTED)
    assert (btc1.kind, btc2.kind) == ("random_forest", "lightgbm")
    assert btc1.data_sha256 == btc2.data_sha256  # the same candles
    assert (btc1.data_start_ms, btc1.trained_until_ms) == (1717200000000, 1719788400000)
    assert btc1.metrics["folds"] == 2  # 720 bars: 300 in sample, 2 x 200 out, 20 too few
    assert btc1.metrics["train_rows"] == 295  # 300 bars less the 6-bar purge, 1 unlabelled
    assert 0.4 < float(str(btc1.metrics["train_up_share"])) < 0.6
    bins = btc1.metrics["calibration"]
    assert isinstance(bins, list)
    counts = [b["count"] for b in bins if isinstance(b, dict)]
    assert sum(c for c in counts if isinstance(c, int)) == btc1.metrics["test_rows"]
    files = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert files == [btc1.artefact, btc2.artefact]
    assert btc1.artefact == f"btc-1-{btc1.artefact_sha256[:12]}.joblib"
    assert promoted.exit_code == 0, promoted.output
    assert "promoted btc-2: strategies with model_name btc trade it" in promoted.output
    assert listed.exit_code == 0, listed.output
    assert "│ btc-1 │ candidate │ random_forest │ 2024-06-01 to 2024-06-30 │" in listed.output
    assert "│ btc-2 │ promoted  │ lightgbm      │ 2024-06-01 to 2024-06-30 │" in listed.output


def test_cli_ml_train_filters_leave_too_few_rows_exits_2_with_counts(tmp_path: Path) -> None:
    args = ["ml", "train", "--data", BTC_1H, "--start", "2024-06-01", "--end", "2024-06-05"]
    args += ["--name", "btc", "--db", str(tmp_path / "state.db"), "--train-bars", "60"]

    result = CliRunner().invoke(build_app(), [*args, "--test-bars", "30", "--horizon", "24"])

    assert result.exit_code == 2
    assert (
        "error: binance_BTC-USDT_1h_2024.csv.gz --start 2024-06-01 --end 2024-06-05: 96 bars"
        " from 2024-06-01 00:00 UTC to 2024-06-04 23:00 UTC; too few rows to train at bar 60:"
        " window 60, with features 12, with a known label 12, after purge and embargo"
        " (24+0 bars) 0 with 0 class(es); need 50 and both classes"
    ) in " ".join(result.output.split())
    assert not (tmp_path / "models").exists()


def test_cli_ml_promote_changed_file_exits_2_naming_it(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "state.db"
    assert _train(db).exit_code == 0
    (artefact,) = (tmp_path / "models").glob("btc-1-*.joblib")
    artefact.write_bytes(artefact.read_bytes() + b"\0")

    # Act
    result = CliRunner().invoke(build_app(), ["ml", "promote", "btc-1", "--db", str(db)], env=WIDE)

    # Assert
    assert result.exit_code == 2
    assert f"error: model btc-1: its file {artefact} has changed since it was registered" in (
        " ".join(result.output.split())
    )
    registry = ModelRegistry.open(db)
    assert registry.models("btc")[0].status is ModelStatus.CANDIDATE
    registry.close()


def test_cli_ml_list_without_a_database_says_where_it_looked(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["ml", "list", "--db", str(tmp_path / "none.db")])

    assert result.exit_code == 2
    assert f"no model registry at {tmp_path / 'none.db'}: train a model with" in result.output
    assert not (tmp_path / "none.db").exists()


def test_cli_strategies_lists_ml_with_its_registry_parameters() -> None:
    result = CliRunner().invoke(build_app(), ["strategies"])

    assert result.exit_code == 0, result.output
    ml_row = next(line for line in result.output.splitlines() if line.startswith("│ ml "))
    assert "MLStrategy" in ml_row
    assert "model_name=''" in result.output
    assert "registry='data/tradebot.db'" in result.output
