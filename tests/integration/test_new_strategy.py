"""``tradebot new-strategy``: from the template to a backtest, the lookahead check and paper.

The path a newcomer takes, in a fresh folder, each step through the real CLI.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app


def invoke(*args: str) -> tuple[int, str]:
    """Run ``tradebot`` in-process; return the exit code and the output."""
    result = CliRunner().invoke(build_app(), list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_new_strategy_template_backtests_passes_lookahead_and_paper_trades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: a fresh working folder
    monkeypatch.chdir(tmp_path)
    spec = "strategies/my_momentum.py:MyMomentum"

    # Act 1: the template
    code, output = invoke("new-strategy", "my_momentum")
    assert code == 0, output
    assert f"tradebot backtest --strategy {spec}" in output
    assert (tmp_path / "strategies" / "my_momentum.py").is_file()
    config = tmp_path / "strategies" / "my_momentum.yaml"

    # Act 2: a backtest of it
    code, output = invoke("backtest", "--strategy", spec, "--start", "2024-06-01")
    assert code == 0, output
    assert "my_momentum on BTC/USDT 1h" in output
    with (tmp_path / "reports" / "latest" / "trades.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) > 5

    # Act 3: the lookahead check
    code, output = invoke("lookahead-check", spec, "--cuts", "8")
    assert code == 0, output
    assert "no lookahead found" in output

    # Act 4: paper trading through the sandbox (free port), with its own state database
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("exchange:\n", "exchange:\n  sandbox: {port: 0}\n", 1))
    code, output = invoke("run", "--mode", "paper", "--replay", "--bars", "200", "-c", str(config))
    assert code == 0, output
    assert "bars replayed" in output
    assert (tmp_path / "data" / "my_momentum.db").is_file()
    assert not (tmp_path / "data" / "tradebot.db").exists()


def test_new_strategy_refuses_to_overwrite_and_bad_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("new-strategy", "trend")[0] == 0

    again, again_output = invoke("new-strategy", "trend")
    bad, bad_output = invoke("new-strategy", "My-Strategy")

    assert again == 2
    assert "pass --force to overwrite" in again_output
    assert bad == 2
    assert "lower-case letters, digits and underscores" in bad_output
