"""``tradebot walk-forward`` end to end: a planted edge is called an edge, noise is not, and
the report folder holds what the summary says."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from factories import make_candles, regime_candles
from tradebot.cli import build_app

SMALL_GRID = ("--search", "grid", "--grid", "fast_period=5,12,20", "--grid", "slow_period=26,60")
# an Optuna study of 24 trials a window over the grid's ranges of the two periods (RSI off)
SMALL_STUDY = (
    "--trials", "24", "-p", "rsi_threshold=100", "-p", "rsi_period=14",
    "--space", "fast_period=5:20", "--space", "slow_period=26:90",
)  # fmt: skip


def walk_forward(*args: str) -> tuple[int, str]:
    """Run ``tradebot walk-forward`` in-process; return the exit code and the output."""
    result = CliRunner().invoke(build_app(), ["walk-forward", *args], env={"COLUMNS": "250"})
    return result.exit_code, " ".join(result.output.split())


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.rename(columns={"ts_ms": "timestamp"}).to_csv(path, index=False)
    return path


def test_walk_forward_planted_edge_verdict_edge_and_report_folder(tmp_path: Path) -> None:
    # Arrange: 4,000 hourly bars of lasting trends
    data = write(regime_candles(4000, seed=0, drift=0.002), tmp_path / "BTCUSDT-1h.csv")

    # Act: the default search, an Optuna study per window
    code, out = walk_forward(
        "--data", str(data), "--train", "1000", "--test", "500", *SMALL_STUDY,
        "--runs", "200", "--report-dir", str(tmp_path / "reports"),
    )  # fmt: skip

    # Assert
    assert code == 0, out
    assert "6 folds" in out
    assert "Verdict: evidence of a real edge." in out
    folder = (tmp_path / "reports" / "latest").resolve()
    assert folder.name.startswith("walkforward-ema_crossover_BTC-USDT_1h_")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["edge"] is True
    assert summary["deflated_sharpe_ratio"] > 0.95
    assert summary["random_entry_p_value"] < 0.05
    assert summary["trials"] == 24
    folds = pd.read_csv(folder / "folds.csv")
    assert folds["test_bars"].tolist() == [500] * 6
    equity = pd.read_csv(folder / "oos_equity.csv")
    assert len(equity) == 3000
    assert equity["fold"].tolist() == [k for k in range(1, 7) for _ in range(500)]
    last = float(equity["equity"].iloc[-1])
    assert last == pytest.approx(10_000 * (1 + summary["out_of_sample"]["return_pct"] / 100))
    assert (folder / "report.html").stat().st_size > 0
    page = (folder / "walkforward.html").read_text()
    assert "Verdict: evidence of a real edge." in page
    assert page.count("plotly.js v") == 1  # embedded once: the page opens offline
    trials = pd.read_csv(folder / "trials.csv")
    assert list(trials.columns) == ["fast_period", "slow_period", "value", "trades"]
    assert len(trials) <= 24


def test_walk_forward_on_noise_finds_no_edge(tmp_path: Path) -> None:
    data = write(make_candles(3000, seed=2), tmp_path / "BTCUSDT-1h.csv")

    code, out = walk_forward(
        "--data", str(data), "--train", "30d", "--test", "10d", "--window", "anchored",
        *SMALL_GRID, "--runs", "200", "--report-dir", str(tmp_path / "reports"),
    )  # fmt: skip

    assert code == 0, out
    assert "Verdict: no evidence of an edge" in out
    assert "Do not trade these parameters on this basis." in out


def test_walk_forward_bad_window_and_too_little_data_say_what_to_do(tmp_path: Path) -> None:
    data = write(make_candles(500, seed=1), tmp_path / "BTCUSDT-1h.csv")

    bad_code, bad = walk_forward("--data", str(data), "--train", "90 days")
    short_code, short = walk_forward("--data", str(data), "--train", "400", "--test", "200")
    windows = ("--train", "100", "--test", "50")
    grid_code, grid = walk_forward(
        "--data", str(data), *windows, "--search", "grid", "--grid", "fast_period"
    )
    mine = str(Path(__file__).parents[1] / "resources" / "strategies" / "above_average.py")
    spec = f"{mine}:AboveAverage"
    own_code, own = walk_forward(
        "--strategy", spec, "--data", str(data), *windows, "--search", "grid"
    )

    assert (grid_code, own_code) == (2, 2)
    assert "--grid 'fast_period' must look like name=v1,v2,... e.g. fast_period=8,12,16" in grid
    assert f"strategy '{spec}' declares no parameter space: give a grid with --grid" in own
    assert bad_code == 2
    assert "--train '90 days': give a number of bars or of hours, days or weeks (90d)" in bad
    assert short_code == 2
    assert "500 bars hold no walk-forward fold of 400 in-sample and 200 out-of-sample" in short


def test_walk_forward_on_the_bundled_sample_prints_what_the_readme_shows(tmp_path: Path) -> None:
    # Arrange: the README's example, as a newcomer runs it on a fresh clone
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())

    # Act
    code, out = walk_forward("--report-dir", str(tmp_path))

    # Assert: every finding and the verdict, word for word
    assert code == 0, out
    said = out[out.index("- Out of sample") : out.index(" report:")]
    assert said in readme
