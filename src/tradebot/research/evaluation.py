"""Run the real Backtester on one window of candles with one set of strategy parameters.

Every figure research reports comes from here: the same engine, simulated venue, fees and
risk settings as ``tradebot backtest`` (``tradebot.backtest.session.simulate``), only the
strategy's parameters and the bars change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.result import BacktestResult, FloatArray
from tradebot.backtest.session import simulate
from tradebot.config import Config, with_overrides
from tradebot.domain.decisions import MetadataValue
from tradebot.strategy.registry import create_strategy

Params = Mapping[str, MetadataValue]


@dataclass(frozen=True, slots=True)
class TrialSet:
    """Every parameter set a search tried over one stretch of candles.

    ``table`` has one row a trial: the searched parameters, ``value`` (the objective, its
    sign flipped when it is minimised, so higher is always better; NaN when undefined or
    outside the constraints) and ``trades``. ``returns`` is periods × trials, the trials in
    the table's order: what PBO and the deflated Sharpe ratio are computed on; ``period``
    names its rows (``bar`` or ``day``). ``n_tried`` counts the trials that left no returns
    (failed) too: the deflated Sharpe ratio counts every try.
    """

    table: pd.DataFrame
    params: tuple[str, ...]
    returns: npt.NDArray[np.float64]
    period: str
    n_tried: int


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
