"""One walk-forward study and the statistics that judge it, ending in a verdict in plain words.

``assess`` runs, on the same candles and with the same grid:

1. the walk-forward (``walkforward.py``): the out-of-sample record of the procedure;
2. the same search over the whole period (every grid point, or one more Optuna study):
   the trials × time matrix of returns, from which PBO by CSCV, the deflated Sharpe ratio
   of the best trial (deflated by all of them) and the parameter stability around it
   (``overfitting.py``, ``stability.py``);
3. on the stitched out-of-sample record: random entries with the same exposure (a
   p-value) and Monte Carlo over its trades (``robustness.py``).

The verdict counts an edge as shown only when the out-of-sample record earned, its timing
beat chance (p < 0.05) and the best in-sample Sharpe survives deflation (DSR > 0.95).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from tradebot.config import Config
from tradebot.domain.decisions import MetadataValue
from tradebot.research.evaluation import TrialSet
from tradebot.research.overfitting import (
    DeflatedSharpe,
    PboResult,
    probability_of_backtest_overfitting,
    trials_dsr,
)
from tradebot.research.robustness import (
    MonteCarloResult,
    Resampling,
    SignificanceResult,
    exposure_series,
    monte_carlo,
    random_entry_test,
    trade_returns,
)
from tradebot.research.splits import Fold
from tradebot.research.stability import Stability, parameter_stability
from tradebot.research.walkforward import FoldCallback, Optimiser, WalkForwardResult, walk_forward

SIGNIFICANCE = 0.05
DSR_THRESHOLD = 0.95
MIN_SLICE_BARS = 10


class Search(Protocol):
    """An in-sample optimiser that can also report every trial it makes over a stretch:
    ``GridSearch`` (``grid.py``) and ``StudySearch`` (``study_search.py``)."""

    def __call__(self, train: pd.DataFrame) -> dict[str, MetadataValue]:
        """The best parameters on ``train``."""
        ...

    def trial_set(self, candles: pd.DataFrame) -> TrialSet:
        """Every trial of a search over ``candles``, with its returns."""
        ...


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything ``tradebot walk-forward`` reports; ``None`` where a figure is undefined."""

    walk_forward: WalkForwardResult
    trials: pd.DataFrame  # the full-period search: parameters, value, trades
    period: str  # what a row of the trials' returns is: "bar" or "day"
    pbo: PboResult | None
    dsr: DeflatedSharpe
    stability: Stability | None
    timing: SignificanceResult | None  # None: the out-of-sample record never held anything
    shuffle: MonteCarloResult | None  # None: no out-of-sample trade
    bootstrap: MonteCarloResult | None

    @property
    def has_edge(self) -> bool:
        """Out of sample it earned, beat random timing, and the best Sharpe survives DSR."""
        return (
            self.walk_forward.metrics.total_return_pct > 0
            and self.timing is not None
            and self.timing.p_value < SIGNIFICANCE
            and self.dsr.dsr > DSR_THRESHOLD
        )


def assess(
    config: Config,
    candles: pd.DataFrame,
    folds: list[Fold],
    search: Search,
    *,
    optimise: Optimiser | None = None,
    runs: int = 1000,
    seed: int = 0,
    on_fold: FoldCallback | None = None,
) -> Assessment:
    """Walk forward with ``optimise`` (default: ``search`` itself, run afresh in each
    fold) and judge the result with the statistics above (seeded: the same inputs give the
    same figures).

    Raises:
        ConfigError: the strategy refused the grid or no point traded enough in sample.
    """
    result = walk_forward(config, candles, folds, optimise or search, on_fold)
    trials = search.trial_set(candles)
    matrix, table = trials.returns, trials.table
    slices = _slices(matrix.shape[0])
    pbo = probability_of_backtest_overfitting(matrix, slices) if matrix.shape[1] > 1 else None
    stable = (
        parameter_stability(table, list(trials.params), "value")
        if table["value"].notna().any()
        else None
    )
    bar_returns, exposed = exposure_series(result.out_of_sample)
    timing = random_entry_test(bar_returns, exposed, runs, seed) if exposed.any() else None
    per_trade = trade_returns(result.out_of_sample)
    shuffle = monte_carlo(per_trade, Resampling.SHUFFLE, runs, seed) if per_trade.size else None
    bootstrap = monte_carlo(per_trade, Resampling.BOOTSTRAP, runs, seed) if per_trade.size else None
    dsr = trials_dsr(matrix, trials.n_tried)
    return Assessment(result, table, trials.period, pbo, dsr, stable, timing, shuffle, bootstrap)


def _slices(n_bars: int) -> int:
    # 16 slices (12,870 combinations) as in the paper, fewer when the slices would get short
    for slices in (16, 12, 10, 8, 6, 4, 2):
        if n_bars // slices >= MIN_SLICE_BARS:
            return slices
    return 2
