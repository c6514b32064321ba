"""Objectives and constraints, resolved from their text as the workers resolve them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tradebot.backtest.dataset import load_backtest_data
from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.session import simulate
from tradebot.config import load_config
from tradebot.domain.errors import ConfigError
from tradebot.research.objectives import parse_constraint, parse_objective


@pytest.fixture(scope="module")
def backtest() -> tuple[PerformanceMetrics, object]:
    data = load_backtest_data(load_config(None))
    result, _ = simulate(data.config, data.candles.iloc[:2000])
    return compute_metrics(result), result


def test_parse_objective_builtins_read_their_metric_in_their_direction(
    backtest: tuple[PerformanceMetrics, object],
) -> None:
    metrics, result = backtest

    sharpe = parse_objective("sharpe")
    drawdown = parse_objective("drawdown")
    calmar_min = parse_objective("calmar=min")

    assert sharpe.direction == "maximize"
    assert sharpe.measure(metrics, result) == metrics.sharpe_ratio  # type: ignore[arg-type]
    assert drawdown.direction == "minimize"
    assert drawdown.measure(metrics, result) == metrics.max_drawdown_pct  # type: ignore[arg-type]
    assert calmar_min.direction == "minimize"


def test_parse_objective_user_function_from_a_file(
    tmp_path: Path, backtest: tuple[PerformanceMetrics, object]
) -> None:
    metrics, result = backtest
    (tmp_path / "score.py").write_text(
        "def per_trade(metrics, result):\n"
        "    return metrics.total_return_pct / max(metrics.total_trades, 1)\n",
        encoding="utf-8",
    )

    objective = parse_objective(f"{tmp_path}/score.py:per_trade=min")

    assert objective.direction == "minimize"
    expected = metrics.total_return_pct / max(metrics.total_trades, 1)
    assert objective.measure(metrics, result) == pytest.approx(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("profit", r"unknown objective 'profit': use one of sharpe, sortino, calmar"),
        ("sharpe=up", r"must be min or max"),
        ("missing.py:f", r"objective file 'missing.py' not found"),
    ],
)
def test_parse_objective_refusals_say_what_is_accepted(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_objective(spec)


def test_constraint_violation_is_optunas_sign_and_met_matches(
    backtest: tuple[PerformanceMetrics, object],
) -> None:
    metrics, _ = backtest
    trades = metrics.total_trades

    at_least = parse_constraint(f"total_trades>={trades + 5}")
    at_most = parse_constraint("max_drawdown_pct <= 50")

    assert at_least.violation(metrics) == 5.0
    assert not at_least.is_met(metrics)
    assert at_most.violation(metrics) == metrics.max_drawdown_pct - 50
    assert at_most.is_met(metrics)
    assert parse_constraint("sharpe_ratio>=0").violation(replace(metrics, sharpe_ratio=None)) == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [("trades>=3", r"unknown metric 'trades'"), ("total_trades=3", r"metric>=value")],
)
def test_parse_constraint_refusals(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_constraint(spec)
