"""Run the real Backtester on one window of candles with one set of strategy parameters.

Every figure research reports comes from here: the same engine, simulated venue, fees and
risk settings as ``tradebot backtest`` (``tradebot.backtest.session.simulate``), only the
strategy's parameters and the bars change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.result import BacktestResult, FloatArray
from tradebot.backtest.session import simulate
from tradebot.config import Config, with_overrides
from tradebot.domain.decisions import MetadataValue
from tradebot.strategy.registry import create_strategy

Params = Mapping[str, MetadataValue]


class Objective(StrEnum):
    """What an in-sample search maximises, named as ``tradebot optimize`` names it."""

    SHARPE = "sharpe"
    SORTINO = "sortino"
    CALMAR = "calmar"
    RETURN = "return"
    CAGR = "cagr"

    @property
    def field(self) -> str:
        """The ``PerformanceMetrics`` field it reads."""
        return _FIELDS[self]

    def of(self, metrics: PerformanceMetrics) -> float | None:
        """The objective's value (None where it is undefined, e.g. no trade)."""
        value = getattr(metrics, self.field)
        return None if value is None else float(value)


_FIELDS = {
    Objective.SHARPE: "sharpe_ratio",
    Objective.SORTINO: "sortino_ratio",
    Objective.CALMAR: "calmar_ratio",
    Objective.RETURN: "total_return_pct",
    Objective.CAGR: "cagr_pct",
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One backtest of one parameter set on one window."""

    params: dict[str, MetadataValue]
    result: BacktestResult
    metrics: PerformanceMetrics

    def returns(self) -> FloatArray:
        """Per-bar returns of the equity curve (the first from the starting cash)."""
        equity = np.concatenate(([self.result.starting_cash], self.result.equity))
        return np.asarray(np.diff(equity) / equity[:-1], dtype=np.float64)


def with_params(config: Config, params: Params) -> Config:
    """``config`` with ``strategy.params`` replaced by ``params`` (validated again).

    Raises:
        ConfigError: the strategy refuses the parameters.
    """
    return with_overrides(config, {"strategy.params": dict(params)}, "research parameters")


def evaluate(
    config: Config, candles: pd.DataFrame, params: Params, trade_from: int = 0
) -> Evaluation:
    """Backtest ``params`` on ``candles``; bars before ``trade_from`` only warm up.

    The metrics cover the traded bars alone, as ``tradebot backtest --trade-from`` does.

    Raises:
        ConfigError: the strategy refuses the parameters.
    """
    chosen = with_params(config, params)
    result, _ = simulate(chosen, candles, start_index=trade_from)
    result = result.from_bar(trade_from)
    return Evaluation(dict(params), result, compute_metrics(result))


def warmup_bars(config: Config, params: Params) -> int:
    """Bars before a window that make its indicators equal a run over all the history.

    Raises:
        ConfigError: the strategy refuses the parameters.
    """
    return create_strategy(config.strategy.name, dict(params)).live_window_bars
