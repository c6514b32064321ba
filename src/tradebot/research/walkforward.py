"""Walk-forward analysis: optimise in sample, trade the result out of sample, repeat.

Each fold hands its in-sample candles to ``optimise`` (any ``train_candles -> params``
callable: the grid search of ``tradebot.research.grid``, or an Optuna study) and backtests
the parameters it returns on the next, unseen window with the real Backtester. The
out-of-sample windows tile the data after the first in-sample window, so their equity
curves chain into one out-of-sample history: what trading the procedure would have earned
(Pardo, *The Evaluation and Optimization of Trading Strategies*, 2008, ch. 11).

* Out of sample, the bars before the window only warm the indicators up (the strategy's
  ``live_window_bars``, so its signals equal a run over the whole history); each window
  starts flat with the starting cash, and a position still open at its end is valued at
  the last close. The stitched result's trades keep their own window's amounts.
* **Walk-forward efficiency** is the annualised out-of-sample return over the annualised
  in-sample return of the chosen parameters (Pardo's WFE), per fold and over all folds;
  under 0.5 the in-sample figures promised much more than trading delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.result import BacktestResult, FloatArray, IntArray
from tradebot.config import Config
from tradebot.domain.decisions import MetadataValue
from tradebot.research.evaluation import Evaluation, evaluate, warmup_bars
from tradebot.research.splits import Fold

Optimiser = Callable[[pd.DataFrame], dict[str, MetadataValue]]
FoldCallback = Callable[["FoldResult"], None]


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fold: the parameters chosen in sample and how they did on both sides."""

    fold: Fold
    params: dict[str, MetadataValue]
    in_sample: PerformanceMetrics
    out_of_sample: Evaluation

    @property
    def efficiency(self) -> float | None:
        """Annualised out-of-sample return over the in-sample one (None: in-sample <= 0)."""
        return _efficiency(self.out_of_sample.metrics.cagr_pct, self.in_sample.cagr_pct)


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """Every fold, and the out-of-sample windows chained into one backtest result."""

    folds: tuple[FoldResult, ...]
    out_of_sample: BacktestResult  # equity chained across folds from the starting cash
    metrics: PerformanceMetrics  # of ``out_of_sample``
    fold_of_bar: IntArray  # the fold each stitched bar came from

    @property
    def efficiency(self) -> float | None:
        """Annualised stitched out-of-sample return over the mean in-sample one."""
        in_sample = [f.in_sample.cagr_pct for f in self.folds]
        if any(v is None for v in in_sample):
            return None
        return _efficiency(self.metrics.cagr_pct, float(np.mean([v or 0.0 for v in in_sample])))


def walk_forward(
    config: Config,
    candles: pd.DataFrame,
    folds: Sequence[Fold],
    optimise: Optimiser,
    on_fold: FoldCallback | None = None,
) -> WalkForwardResult:
    """Run every fold and stitch the out-of-sample windows (see the module docstring).

    Raises:
        ConfigError: the optimiser or the strategy refused (a window too short, a grid the
            strategy does not accept).
        ValueError: no folds.
    """
    if not folds:
        msg = "walk-forward needs at least one fold"
        raise ValueError(msg)
    results = []
    for fold in folds:
        train = candles.iloc[fold.train_start : fold.train_end].reset_index(drop=True)
        params = optimise(train)
        in_sample = evaluate(config, train, params).metrics
        warm = min(warmup_bars(config, params), fold.test_start)
        window = candles.iloc[fold.test_start - warm : fold.test_end].reset_index(drop=True)
        result = FoldResult(fold, params, in_sample, evaluate(config, window, params, warm))
        results.append(result)
        if on_fold is not None:
            on_fold(result)
    stitched, fold_of_bar = _stitch([r.out_of_sample.result for r in results])
    return WalkForwardResult(tuple(results), stitched, compute_metrics(stitched), fold_of_bar)


def _stitch(parts: Sequence[BacktestResult]) -> tuple[BacktestResult, IntArray]:
    # chain each window's equity (relative to its start) onto the previous window's end
    start = parts[0].starting_cash
    level, curves = start, []
    for part in parts:
        curve: FloatArray = part.equity / part.starting_cash * level
        curves.append(curve)
        level = float(curve[-1]) if len(curve) else level
    first = parts[0]
    stitched = replace(
        first,
        ts_ms=np.concatenate([p.ts_ms for p in parts]),
        open=np.concatenate([p.open for p in parts]),
        high=np.concatenate([p.high for p in parts]),
        low=np.concatenate([p.low for p in parts]),
        close=np.concatenate([p.close for p in parts]),
        equity=np.concatenate(curves),
        position_qty=np.concatenate([p.position_qty for p in parts]),
        trades=[t for p in parts for t in p.trades],
        fills=[f for p in parts for f in p.fills],
        decisions=[d for p in parts for d in p.decisions],
        fees_paid=sum(p.fees_paid for p in parts),
        refused=tuple(r for p in parts for r in p.refused),
        strategy_config={"walk_forward_folds": len(parts)},
    )
    fold_of_bar = np.concatenate(
        [np.full(len(p.ts_ms), k, dtype=np.int64) for k, p in enumerate(parts)]
    )
    return stitched, fold_of_bar


def _efficiency(out_cagr: float | None, in_cagr: float | None) -> float | None:
    if out_cagr is None or in_cagr is None or in_cagr <= 0:
        return None
    return out_cagr / in_cagr
