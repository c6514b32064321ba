"""``tradebot optimize`` through the real CLI: the table, the report, and a resumed study."""

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


def test_cli_optimize_prints_best_parameters_writes_the_report_and_resumes(tmp_path: Path) -> None:
    args = (
        "optimize",
        "--trials", "8",
        "--end", "2024-03-01",
        "--constraint", "total_trades>=2",
        "-p", "rsi_period=14",
        "--storage", str(tmp_path / "studies.journal"),
        "--report-dir", str(tmp_path / "reports"),
    )  # fmt: skip

    code, output = invoke(*args, "-j", "2")  # forked workers under the progress display
    again_code, again = invoke(*args)

    assert code == 0, output
    assert "study ema_crossover-BTC-USDT-1h: 8 trials (8 run now" in output
    assert "Best parameters (trial" in output
    assert "rsi_period" in output
    assert "fixed (-p)" in output
    report = next((tmp_path / "reports").glob("optimize-ema_crossover_BTC-USDT_1h_*/report.html"))
    page = report.read_text(encoding="utf-8")
    for section in ("Optimisation history: sharpe", "Parameter importance for sharpe",
                    "Parallel coordinates: sharpe", "Best parameters"):  # fmt: skip
        assert section in page
    with (report.parent / "trials.csv").open(encoding="utf-8") as handle:
        trials = list(csv.DictReader(handle))
    assert [int(t["trial"]) for t in trials] == list(range(8))
    assert "rsi_period" not in trials[0]  # fixed, never searched
    assert {"fast_period", "slow_period", "rsi_threshold"} <= set(trials[0])
    assert again_code == 0, again
    assert "8 trials (0 run now" in again


def test_cli_optimize_bad_range_is_an_error_naming_the_forms(tmp_path: Path) -> None:
    code, output = invoke(
        "optimize", "--space", "fast_period=9:3", "--storage", str(tmp_path / "s.journal")
    )

    assert code == 2
    assert "parameter range '9:3': use low:high" in output


def test_cli_optimize_basket_config_is_refused_not_cut_to_its_first_market(tmp_path: Path) -> None:
    # It optimised BTC/USDT alone and said nothing of ETH/USDT.
    config = tmp_path / "basket.yaml"
    config.write_text("trading:\n  symbols: [BTC/USDT, ETH/USDT]\n", encoding="utf-8")
    store = tmp_path / "s.journal"

    code, output = invoke("optimize", "-c", str(config), "--trials", "1", "--storage", str(store))

    assert code == 2
    assert "optimize runs one market; trading.symbols lists BTC/USDT, ETH/USDT" in output
    assert "keep one in trading.symbols" in output
    assert not store.exists()


def test_cli_walk_forward_basket_config_names_a_fix_that_works(tmp_path: Path) -> None:
    # Its advice was --symbol or --data, neither of which replaces trading.symbols.
    config = tmp_path / "basket.yaml"
    config.write_text("trading:\n  symbols: [BTC/USDT, ETH/USDT]\n", encoding="utf-8")

    code, output = invoke("walk-forward", "-c", str(config), "--symbol", "ETH/USDT")

    assert code == 2
    assert "walk-forward runs one market; trading.symbols lists BTC/USDT, ETH/USDT" in output
    assert "keep one in trading.symbols" in output


@pytest.mark.parametrize("command", ["optimize", "walk-forward"])
def test_cli_research_symbol_override_of_the_strategy_is_refused(
    tmp_path: Path, command: str
) -> None:
    # Every trial traded the override (breakout), so the ema_crossover parameters searched
    # changed nothing: four trials, four identical results.
    config = tmp_path / "override.yaml"
    config.write_text(
        "strategy:\n  name: ema_crossover\n  symbols:\n    BTC/USDT: {name: breakout}\n",
        encoding="utf-8",
    )
    store = tmp_path / "s.journal"
    storage = ["--storage", str(store)] if command == "optimize" else []

    code, output = invoke(command, "-c", str(config), *storage)

    assert code == 2
    assert "strategy.symbols.BTC/USDT" in output
    assert "breakout" in output
    assert not store.exists()


@pytest.mark.parametrize("command", ["optimize", "walk-forward"])
def test_cli_research_ensemble_is_refused_naming_the_field_and_a_member(
    tmp_path: Path, command: str
) -> None:
    # It said "unknown strategy 'ensemble'", as if the config were wrong.
    config = tmp_path / "ensemble.yaml"
    config.write_text(
        "strategy:\n  ensemble:\n    mode: vote\n    members:\n"
        "      - {name: ema_crossover, params: {fast_period: 8}}\n"
        "      - {name: breakout}\n",
        encoding="utf-8",
    )
    store = tmp_path / "s.journal"
    storage = ["--storage", str(store)] if command == "optimize" else []

    code, output = invoke(command, "-c", str(config), *storage)
    output = " ".join(output.split())  # the console wraps long lines

    assert code == 2
    assert "unknown strategy" not in output
    assert "strategy.ensemble" in output
    assert "--strategy ema_crossover" in output
    assert not store.exists()
