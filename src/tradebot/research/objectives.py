"""What a trial is scored on: named objectives, the user's own function, and constraints.

An objective reads a finished backtest's ``PerformanceMetrics`` (and, for a user function,
the ``BacktestResult`` too). Objectives and constraints travel to the workers as their text
(``sharpe``, ``my_score.py:score=min``, ``total_trades>=20``) and are resolved there, so
nothing but short strings is pickled and the user's file is imported where it runs.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from tradebot.backtest.metrics import PerformanceMetrics
from tradebot.backtest.result import BacktestResult
from tradebot.domain.errors import ConfigError
from tradebot.strategy.registry import load_module_file

Direction = Literal["maximize", "minimize"]
Measure = Callable[[PerformanceMetrics, BacktestResult], float | None]

BUILTIN: dict[str, tuple[str, Direction]] = {
    "sharpe": ("sharpe_ratio", "maximize"),
    "sortino": ("sortino_ratio", "maximize"),
    "calmar": ("calmar_ratio", "maximize"),
    "return": ("total_return_pct", "maximize"),
    "drawdown": ("max_drawdown_pct", "minimize"),
}
"""Objective name -> (PerformanceMetrics field, direction)."""

_METRIC_FIELDS = frozenset(f.name for f in fields(PerformanceMetrics))
_CONSTRAINT = re.compile(r"^\s*([a-z_]+)\s*(>=|<=)\s*(-?[0-9.eE+-]+)\s*$")


@dataclass(frozen=True, slots=True)
class Objective:
    """One thing to optimise: its text as given, its direction and how to measure it."""

    spec: str
    label: str
    direction: Direction
    measure: Measure
    reads_result: bool = False
    """A user function reads the backtest's result too (its fills and decisions kept)."""


def parse_objective(spec: str) -> Objective:
    """Resolve ``sharpe``, ``sortino``, ``calmar``, ``return``, ``drawdown`` or a user
    function ``path/to/file.py:func`` (``func(metrics, result) -> float``, maximised;
    ``=min`` after it minimises). A name may carry ``=min``/``=max`` too.

    Raises:
        ConfigError: an unknown name, a file or function that is not there.
    """
    text, _, way = spec.partition("=")
    if way not in ("", "min", "max"):
        raise ConfigError(f"objective {spec!r}: the direction after '=' must be min or max")
    if text in BUILTIN:
        field, direction = BUILTIN[text]
        return Objective(spec, text, _direction(way, direction), _metric(field))
    path_text, sep, func_name = text.rpartition(":")
    if not sep or not path_text.endswith(".py") or not func_name:
        known = ", ".join(BUILTIN)
        raise ConfigError(
            f"unknown objective {spec!r}: use one of {known}, or path/to/file.py:function"
        )
    module = load_module_file(Path(path_text), "objective")
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ConfigError(f"objective file {path_text!r} has no function {func_name!r}")
    return Objective(spec, func_name, _direction(way, "maximize"), _user(func), reads_result=True)


def _direction(way: str, default: Direction) -> Direction:
    if way == "min":
        return "minimize"
    if way == "max":
        return "maximize"
    return default


def _metric(field: str) -> Measure:
    def measure(metrics: PerformanceMetrics, _result: BacktestResult) -> float | None:
        value = getattr(metrics, field)
        return None if value is None else float(value)

    return measure


def _user(func: Callable[..., object]) -> Measure:
    def measure(metrics: PerformanceMetrics, result: BacktestResult) -> float | None:
        value = func(metrics, result)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"the objective function returned {value!r}, not a number")
        return float(value)

    return measure


@dataclass(frozen=True, slots=True)
class Constraint:
    """A bound on one metric, e.g. ``total_trades>=20``; met when ``violation`` <= 0."""

    spec: str
    field: str
    op: Literal[">=", "<="]
    bound: float

    def violation(self, metrics: PerformanceMetrics) -> float:
        """How far the trial is outside the bound (0 or less: inside), Optuna's convention.

        An undefined metric (None) violates by 1.
        """
        value = getattr(metrics, self.field)
        if value is None:
            return 1.0
        if self.op == ">=":
            return self.bound - float(value)
        return float(value) - self.bound

    def is_met(self, metrics: PerformanceMetrics) -> bool:
        """Whether the trial is inside the bound."""
        value = getattr(metrics, self.field)
        compare = operator.ge if self.op == ">=" else operator.le
        return value is not None and bool(compare(float(value), self.bound))


def parse_constraint(spec: str) -> Constraint:
    """Read ``metric>=value`` or ``metric<=value`` over a ``PerformanceMetrics`` field.

    Raises:
        ConfigError: not that form, or the metric is unknown.
    """
    found = _CONSTRAINT.match(spec)
    if found is None:
        raise ConfigError(
            f"constraint {spec!r}: write metric>=value or metric<=value, e.g. total_trades>=20"
        )
    field, op, number = found.groups()
    if field not in _METRIC_FIELDS:
        raise ConfigError(
            f"constraint {spec!r}: unknown metric {field!r}; use one of "
            + ", ".join(sorted(_METRIC_FIELDS))
        )
    try:
        bound = float(number)
    except ValueError as e:
        raise ConfigError(f"constraint {spec!r}: {number!r} is not a number") from e
    return Constraint(spec, field, ">=" if op == ">=" else "<=", bound)
