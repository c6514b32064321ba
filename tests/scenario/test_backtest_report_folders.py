"""Each ``tradebot backtest`` keeps its own report folder; ``latest`` points at the newest."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tradebot.cli import build_app


def backtest(*args: str) -> tuple[int, str]:
    """Run ``tradebot backtest`` in-process; return the exit code and the output."""
    result = CliRunner().invoke(build_app(), ["backtest", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_backtest_twice_keeps_both_report_folders_and_latest_points_at_the_second(
    tmp_path: Path,
) -> None:
    # Arrange
    root = tmp_path / "reports"

    # Act: two strategies, one after the other, into the same report root
    code_1, out_1 = backtest("--report-dir", str(root), "--start", "2024-06-01")
    code_2, out_2 = backtest(
        "--report-dir", str(root), "--start", "2024-06-01", "--strategy", "breakout"
    )

    # Assert
    assert (code_1, code_2) == (0, 0), out_1 + out_2
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(folders) == 2
    names = sorted(p.name for p in folders)
    assert names[0].startswith("breakout_BTC-USDT_1h_")
    assert names[1].startswith("ema_crossover_BTC-USDT_1h_")
    for folder in folders:
        assert (folder / "report.html").stat().st_size > 0
        assert (folder / "trades.csv").exists()
    latest = root / "latest"
    assert latest.is_symlink()
    assert latest.resolve().name.startswith("breakout_BTC-USDT_1h_")
    assert f"report: {latest.resolve() / 'report.html'}" in " ".join(out_2.split())
