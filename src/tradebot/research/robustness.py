"""Robustness of a backtest: Monte Carlo over its trades, and its timing against chance.

* **Trade-order shuffle** keeps every trade and changes only their order. Compounded
  returns commute, so the final return is the same on every path; what changes is the
  drawdown: the actual order was one of many, and the shuffle shows how deep the drawdown
  could as easily have been.
* **Bootstrap** draws as many trades with replacement: a distribution of final returns and
  drawdowns for a trader who gets trades like these again (Efron & Tibshirani, *An
  Introduction to the Bootstrap*, 1993; as in Pardo 2008, ch. 12).
* **Random entries with the same exposure** (a Monte Carlo permutation test, Aronson,
  *Evidence-Based Technical Analysis*, 2007, ch. 5): keep the rule's holding periods (the
  same number of trades, each as long) and place them at random over the same bars. The
  p-value is the share of placements that earned at least what the rule earned.

The significance test works from the bar returns and the rule's position series (the
real Backtester's ``position_qty``), not from one engine run per draw: a p-value needs a
thousand or more draws (a backtest of a year of hourly bars is a tenth of a second), and
the engine's sizing and stops would move the random entries' exposure away from the
rule's. Holding the exposure exactly isolates what the test is about, the timing; the
fees cancel (the same number of trades on both sides) and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from tradebot.backtest.result import BacktestResult

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)


class Resampling(StrEnum):
    """How a Monte Carlo run redraws the trades."""

    SHUFFLE = "shuffle"  # the same trades in a random order
    BOOTSTRAP = "bootstrap"  # as many trades drawn with replacement


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    """Final return and maximum drawdown (both in percent, drawdown positive) of each run,
    beside the actual sequence's."""

    method: Resampling
    return_pct: FloatArray
    max_drawdown_pct: FloatArray
    actual_return_pct: float
    actual_max_drawdown_pct: float

    def return_percentiles(self, q: tuple[float, ...] = PERCENTILES) -> dict[float, float]:
        """Percentiles of the final return, e.g. ``{5.0: -3.1, 50.0: 4.2, ...}``."""
        return {p: float(v) for p, v in zip(q, np.percentile(self.return_pct, q), strict=True)}

    def drawdown_percentiles(self, q: tuple[float, ...] = PERCENTILES) -> dict[float, float]:
        """Percentiles of the maximum drawdown."""
        values = np.percentile(self.max_drawdown_pct, q)
        return {p: float(v) for p, v in zip(q, values, strict=True)}

    @property
    def prob_loss(self) -> float:
        """Share of runs that ended below the starting equity."""
        return float(np.mean(self.return_pct < 0))


def trade_returns(result: BacktestResult) -> FloatArray:
    """Each closed trade's PnL as a fraction of the realised equity before it.

    Compounding these reproduces the realised equity curve, whatever the position sizing.
    """
    pnl = np.array([float(t.pnl) for t in result.trades], dtype=np.float64)
    before = result.starting_cash + np.concatenate(([0.0], np.cumsum(pnl)[:-1]))
    return pnl / before


def monte_carlo(
    returns: npt.ArrayLike,
    method: Resampling = Resampling.SHUFFLE,
    n_runs: int = 1000,
    seed: int = 0,
) -> MonteCarloResult:
    """Redraw the sequence of per-trade ``returns`` ``n_runs`` times (seeded).

    Raises:
        ValueError: no trades, or ``n_runs`` below 1.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.size == 0 or n_runs < 1:
        msg = f"need at least one trade and one run, got {r.size} trades and {n_runs} runs"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    if method is Resampling.SHUFFLE:
        draws = rng.permuted(np.tile(r, (n_runs, 1)), axis=1)
    else:
        draws = r[rng.integers(0, r.size, size=(n_runs, r.size))]
    final, drawdown = _paths(draws)
    actual_final, actual_drawdown = _paths(r.reshape(1, -1))
    return MonteCarloResult(
        method, final, drawdown, float(actual_final[0]), float(actual_drawdown[0])
    )


def _paths(draws: FloatArray) -> tuple[FloatArray, FloatArray]:
    # final return and max drawdown (%) of each row's compounded equity, starting at 1
    equity = np.cumprod(1.0 + draws, axis=1)
    equity = np.concatenate((np.ones((draws.shape[0], 1)), equity), axis=1)
    peak = np.maximum.accumulate(equity, axis=1)
    drawdown = np.max(1.0 - equity / peak, axis=1) * 100.0
    final = (equity[:, -1] - 1.0) * 100.0
    return final.astype(np.float64), drawdown.astype(np.float64)


@dataclass(frozen=True, slots=True)
class SignificanceResult:
    """The rule's log return over its exposed bars against random placements of its trades.

    ``p_value`` = (1 + placements earning at least as much) / (1 + runs), so it is never 0
    (Davison & Hinkley, *Bootstrap Methods and their Application*, 1997, §4.2).
    """

    rule_log_return: float
    random_log_returns: FloatArray
    p_value: float
    n_trades: int
    exposed_bars: int
    n_bars: int


def exposure_series(result: BacktestResult) -> tuple[FloatArray, BoolArray]:
    """Close-to-close bar returns and whether the rule was in the market for each of them.

    Bar ``t``'s return ``close[t] / close[t-1] - 1`` is earned by a position held at the close
    of bar ``t - 1``; the first bar has no return and is left out. Any holding counts as
    exposed: the test judges when the rule is in the market, not how much it holds.
    """
    close = result.close
    returns = close[1:] / close[:-1] - 1.0
    exposed = result.position_qty[:-1] > 0
    return returns.astype(np.float64), exposed


def random_entry_test(
    bar_returns: npt.ArrayLike, exposed: npt.ArrayLike, n_runs: int = 1000, seed: int = 0
) -> SignificanceResult:
    """Test the rule's timing against ``n_runs`` random placements of its holding periods.

    Each holding period (a run of exposed bars) keeps its length; the periods are put in a
    random order at random places among the same bars, never overlapping (a uniform random
    arrangement of the periods and the flat bars). The statistic is the summed log return
    over the exposed bars.

    Raises:
        ValueError: the two series differ in length, the rule never holds anything, or
            ``n_runs`` is below 1.
    """
    r = np.asarray(bar_returns, dtype=np.float64)
    held = np.asarray(exposed, dtype=bool)
    if r.shape != held.shape:
        msg = f"bar_returns and exposed differ in length: {r.shape} and {held.shape}"
        raise ValueError(msg)
    lengths = _runs(held)
    if lengths.size == 0 or n_runs < 1:
        msg = f"need a rule that holds something and at least one run, got {n_runs} runs"
        raise ValueError(msg)
    log_r = np.log1p(r)
    cumulative = np.concatenate(([0.0], np.cumsum(log_r)))
    flat, k = int(r.size - lengths.sum()), int(lengths.size)
    rng = np.random.default_rng(seed)
    scores = np.empty(n_runs)
    for run in range(n_runs):
        order = rng.permutation(lengths)
        slots = np.sort(rng.choice(flat + k, size=k, replace=False))
        starts = slots - np.arange(k) + np.concatenate(([0], np.cumsum(order)[:-1]))
        scores[run] = np.sum(cumulative[starts + order] - cumulative[starts])
    rule = float(np.sum(log_r[held]))
    p_value = (1 + int(np.sum(scores >= rule))) / (1 + n_runs)
    return SignificanceResult(rule, scores, p_value, k, int(lengths.sum()), int(r.size))


def _runs(held: BoolArray) -> npt.NDArray[np.int64]:
    # lengths of the runs of True
    padded = np.concatenate(([False], held, [False])).astype(np.int8)
    edges = np.diff(padded)
    return (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).astype(np.int64)
