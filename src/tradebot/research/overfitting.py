"""Statistics that say whether the best of many backtests is luck.

* **PBO by CSCV** — Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest
  Overfitting", *Journal of Computational Finance* 20(4), 2017: cut a trials × time matrix of
  returns into ``S`` slices, and for every half of them pick the best trial in sample and see
  where it ranks out of sample. PBO is the share of halves where it ranks at or below the
  median; noise gives about 0.5, a real edge near 0.
* **The deflated Sharpe ratio** — Bailey & López de Prado, "The Deflated Sharpe Ratio:
  Correcting for Selection Bias, Backtest Overfitting and Non-Normality", *Journal of
  Portfolio Management* 40(5), 2014: the probability that the true Sharpe ratio is above
  the best one expected from ``N`` trials of zero skill, given the variance of the trials'
  Sharpe ratios, the track record's length, skew and kurtosis.

Sharpe ratios here are per bar (not annualised) and use the sample standard deviation,
as the formulas require; ``annualised / sqrt(periods_per_year)`` converts.
scipy is not needed: ``statistics.NormalDist`` gives the normal CDF and its inverse.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from math import comb
from statistics import NormalDist
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
Performance = Callable[[FloatArray], FloatArray]
EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()
_MIN_STD = 1e-15


def sharpe_ratios(returns: FloatArray) -> FloatArray:
    """Per-bar Sharpe ratio of each column of a (bars × trials) matrix; 0 for a flat column."""
    mean = returns.mean(axis=0)
    std = returns.std(axis=0, ddof=1)
    safe = np.where(std > _MIN_STD, std, 1.0)
    return np.asarray(np.where(std > _MIN_STD, mean / safe, 0.0), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PboResult:
    """The outcome of CSCV.

    ``logits[c]`` is ``ln(w / (1 - w))`` for combination ``c``, where ``w`` is the relative
    out-of-sample rank (in ``(0, 1)``) of the trial that was best in sample; ``pbo`` is the
    share of logits ``<= 0``. ``is_best`` and ``oos_of_best`` are that trial's performance in
    and out of sample, per combination (the paper's performance degradation);
    ``prob_oos_loss`` is the share of combinations where it lost out of sample.
    """

    pbo: float
    logits: FloatArray
    is_best: FloatArray
    oos_of_best: FloatArray
    prob_oos_loss: float
    n_slices: int
    n_trials: int

    @property
    def n_combinations(self) -> int:
        """``C(S, S/2)``."""
        return len(self.logits)


def probability_of_backtest_overfitting(
    returns: npt.ArrayLike, n_slices: int = 16, performance: Performance | None = None
) -> PboResult:
    """PBO by combinatorially symmetric cross-validation (Bailey et al. 2017, §3).

    ``returns`` is bars × trials: column ``n`` holds trial ``n``'s per-bar returns over the
    same bars. The rows are cut into ``n_slices`` contiguous slices of equal size (the last
    ``T mod S`` rows are dropped); each of the ``C(S, S/2)`` ways to choose half of them is an
    in-sample set, the rest out of sample. ``performance`` maps a bars × trials block to one
    figure per trial; the default, per-bar Sharpe, is computed for all combinations at once
    from each slice's mean and sum of squared deviations (``C(16, 8)`` = 12,870). A tie in
    sample goes to the first trial; tied out-of-sample figures take their average rank.

    Raises:
        ValueError: fewer than 2 trials, an odd or too small ``n_slices``, or fewer rows
            than slices.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < 2:  # a ranking needs two trials
        msg = f"returns must be bars × trials with at least 2 trials, got shape {matrix.shape}"
        raise ValueError(msg)
    if n_slices < 2 or n_slices % 2:
        msg = f"n_slices must be even and at least 2, got {n_slices}"
        raise ValueError(msg)
    rows = matrix.shape[0] // n_slices
    if rows < 1:
        msg = f"{matrix.shape[0]} bars cannot be cut into {n_slices} slices"
        raise ValueError(msg)
    n_trials = matrix.shape[1]
    slices = matrix[: rows * n_slices].reshape(n_slices, rows, n_trials)
    masks = np.zeros((comb(n_slices, n_slices // 2), n_slices), dtype=bool)
    for c, chosen in enumerate(itertools.combinations(range(n_slices), n_slices // 2)):
        masks[c, list(chosen)] = True
    if performance is None:
        in_perf, out_perf = _combined_sharpes(slices, masks), _combined_sharpes(slices, ~masks)
    else:
        in_perf = np.array([performance(slices[m].reshape(-1, n_trials)) for m in masks])
        out_perf = np.array([performance(slices[~m].reshape(-1, n_trials)) for m in masks])
    best = np.argmax(in_perf, axis=1)
    picked = np.arange(len(masks))
    value = out_perf[picked, best]
    rank = (
        np.sum(out_perf < value[:, None], axis=1)
        + (np.sum(out_perf == value[:, None], axis=1) + 1) / 2
    )
    w = rank / (n_trials + 1)
    logits = np.log(w / (1 - w))
    return PboResult(
        pbo=float(np.mean(logits <= 0)),
        logits=logits,
        is_best=in_perf[picked, best],
        oos_of_best=value,
        prob_oos_loss=float(np.mean(value < 0)),
        n_slices=n_slices,
        n_trials=n_trials,
    )


def _combined_sharpes(slices: FloatArray, masks: npt.NDArray[np.bool_]) -> FloatArray:
    # Sharpe of each trial over the slices each mask picks, from per-slice means and sums
    # of squared deviations (Chan, Golub & LeVeque's pairwise update): combinations × trials
    rows = slices.shape[1]
    means = slices.mean(axis=1)
    m2 = ((slices - means[:, None, :]) ** 2).sum(axis=1)
    weights = masks.astype(np.float64)
    k = weights.sum(axis=1, keepdims=True)
    mean = weights @ means / k
    spread = weights @ means**2 - k * mean**2
    var = (weights @ m2 + rows * np.maximum(spread, 0.0)) / (k * rows - 1)
    std = np.sqrt(var)
    ok = std > _MIN_STD
    return np.asarray(np.where(ok, mean / np.where(ok, std, 1.0), 0.0), dtype=np.float64)


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, n_bars: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """PSR: the probability that the true per-bar Sharpe ratio exceeds ``benchmark``.

    Bailey & López de Prado 2014, eq. 9 (after Mertens 2002 for the Sharpe ratio's standard
    error under non-normal returns): ``Φ((SR - SR*) √(T - 1) / √(1 - γ₃ SR + (γ₄ - 1)/4 SR²))``
    with ``kurtosis`` the plain (not excess) kurtosis, 3 for normal returns.

    Raises:
        ValueError: fewer than 2 bars.
    """
    if n_bars < 2:
        msg = f"a Sharpe ratio needs at least 2 bars, got {n_bars}"
        raise ValueError(msg)
    variance = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if variance <= 0:  # extreme skew makes the estimate's error vanish: a sure verdict
        return 1.0 if sharpe > benchmark else 0.0
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(n_bars - 1) / math.sqrt(variance))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """The largest per-bar Sharpe ratio expected from ``n_trials`` trials of zero skill.

    Bailey & López de Prado 2014, eq. 11 (the false strategy theorem):
    ``√V · ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))``, γ the Euler-Mascheroni constant.
    One trial selects nothing: the benchmark is 0.

    Raises:
        ValueError: no trial, or a negative variance.
    """
    if n_trials < 1 or sharpe_variance < 0:
        msg = f"need n_trials >= 1 and a variance >= 0, got {n_trials} and {sharpe_variance}"
        raise ValueError(msg)
    if n_trials == 1:
        return 0.0
    quantiles = (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials) + EULER_GAMMA * (
        _NORMAL.inv_cdf(1 - 1 / (n_trials * math.e))
    )
    return math.sqrt(sharpe_variance) * quantiles


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio of one track record and the figures it came from."""

    dsr: float  # the probability that the true Sharpe ratio beats ``benchmark``
    sharpe: float  # per bar
    benchmark: float  # expected best per-bar Sharpe of ``n_trials`` zero-skill trials
    n_trials: int
    sharpe_variance: float
    n_bars: int
    skew: float
    kurtosis: float


def deflated_sharpe_ratio(
    returns: npt.ArrayLike, n_trials: int, sharpe_variance: float
) -> DeflatedSharpe:
    """DSR of the selected trial's per-bar ``returns`` (Bailey & López de Prado 2014, eq. 10).

    ``n_trials`` is every configuration tried (not only the ones kept) and
    ``sharpe_variance`` the variance of their per-bar Sharpe ratios; ``trials_dsr`` takes
    both from a bars × trials matrix. Skew and kurtosis come from ``returns``.

    Raises:
        ValueError: fewer than 2 returns (see ``probabilistic_sharpe_ratio``).
    """
    r = np.asarray(returns, dtype=np.float64)
    sharpe = float(sharpe_ratios(r.reshape(-1, 1))[0])
    skew, kurt = _moments(r)
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    dsr = probabilistic_sharpe_ratio(sharpe, benchmark, len(r), skew, kurt)
    return DeflatedSharpe(dsr, sharpe, benchmark, n_trials, sharpe_variance, len(r), skew, kurt)


def trials_dsr(returns: npt.ArrayLike, n_trials: int | None = None) -> DeflatedSharpe:
    """DSR of the best column of a bars × trials matrix, deflated by all of its columns.

    ``n_trials`` counts every trial tried when some left no returns to put in the matrix (a
    trial that failed still was a try); by default, the matrix's columns. The variance is
    that of the columns' Sharpe ratios.

    Raises:
        ValueError: not a matrix with at least one column and two rows, or ``n_trials``
            below its column count.
    """
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] < 1:
        msg = f"returns must be bars × trials, got shape {matrix.shape}"
        raise ValueError(msg)
    tried = matrix.shape[1] if n_trials is None else n_trials
    if tried < matrix.shape[1]:
        msg = f"n_trials {tried} is below the matrix's {matrix.shape[1]} trials"
        raise ValueError(msg)
    sharpes = sharpe_ratios(matrix)
    variance = float(np.var(sharpes, ddof=1)) if matrix.shape[1] > 1 else 0.0
    best = int(np.argmax(sharpes))
    return deflated_sharpe_ratio(matrix[:, best], tried, variance)


def _moments(r: FloatArray) -> tuple[float, float]:
    # skew and plain kurtosis from population moments; a flat series is taken as normal
    centred = r - r.mean()
    var = float(np.mean(centred**2))
    if var <= _MIN_STD**2:
        return 0.0, 3.0
    return float(np.mean(centred**3) / var**1.5), float(np.mean(centred**4) / var**2)
