"""Is an optimisation's best trial luck? PBO, deflated Sharpe and stability of its study.

Each trial keeps its equity's daily returns (``trial.TrialOutcome.daily_returns``), all over
the same days, so the study is a days × trials matrix: CSCV cuts it into time slices for the
probability of backtest overfitting, and the deflated Sharpe ratio deflates the best trial's
Sharpe by the number of trials really run, failed ones included, and the variance of their
Sharpe ratios (``tradebot.research.overfitting``). Parameter stability reads the objective
around the best point (``tradebot.research.stability``). ``tradebot walk-forward`` judges a
walk-forward the same way, with more evidence (``assessment.py``, ``verdict.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from tradebot.research.assessment import DSR_THRESHOLD
from tradebot.research.overfitting import (
    DeflatedSharpe,
    FloatArray,
    PboResult,
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratios,
)
from tradebot.research.stability import Stability, parameter_stability

MAX_SLICES = 16
_MIN_DAYS_PER_SLICE = 2


@dataclass(frozen=True, slots=True)
class Verdict:
    """The statistics (None where the study is too small for one) and a sentence on them."""

    n_trials: int
    pbo: PboResult | None
    dsr: DeflatedSharpe | None
    stability: Stability | None
    words: str


def judge(
    trials: Sequence[FrozenTrial], best: FrozenTrial | None, objective: str, maximize: bool
) -> Verdict:
    """Judge ``best`` among every trial of a one-objective study."""
    scored = [t for t in trials if t.user_attrs.get("daily_returns")]
    matrix = (
        np.array([t.user_attrs["daily_returns"] for t in scored], dtype=np.float64).T
        if scored
        else np.empty((0, 0))
    )
    pbo = _pbo(matrix)
    dsr = _dsr(matrix, scored, best, len(trials))
    stability = _stability(trials, objective, maximize)
    return Verdict(len(trials), pbo, dsr, stability, _words(pbo, dsr, stability))


def _pbo(matrix: FloatArray) -> PboResult | None:
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        return None
    slices = min(MAX_SLICES, matrix.shape[0] // _MIN_DAYS_PER_SLICE) // 2 * 2
    if slices < 4:
        return None
    return probability_of_backtest_overfitting(matrix, n_slices=slices)


def _dsr(
    matrix: FloatArray, scored: Sequence[FrozenTrial], best: FrozenTrial | None, n_trials: int
) -> DeflatedSharpe | None:
    if best is None or best not in scored or matrix.shape[0] < 2:
        return None
    sharpes = sharpe_ratios(matrix)
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    column = matrix[:, scored.index(best)]
    return deflated_sharpe_ratio(column, n_trials, variance)


def _stability(trials: Sequence[FrozenTrial], objective: str, maximize: bool) -> Stability | None:
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(complete) < 2:
        return None
    params = sorted({p for t in complete for p in t.params})
    rows: list[Mapping[str, object]] = [
        {**t.params, objective: t.values[0] if maximize else -t.values[0]} for t in complete
    ]
    table = pd.DataFrame(rows)
    try:
        return parameter_stability(table, params, objective)
    except ValueError:
        return None


def _words(pbo: PboResult | None, dsr: DeflatedSharpe | None, stability: Stability | None) -> str:
    if pbo is None or dsr is None:
        return "too few trials or days to judge the best trial against luck"
    figures = f"PBO {pbo.pbo:.2f}, deflated Sharpe {dsr.dsr:.2f} over {dsr.n_trials} trials"
    if stability is not None and stability.retention is not None:
        figures += f", neighbours keep {stability.retention:.0%} of the best score"
    if pbo.pbo >= 0.5 or dsr.dsr < 0.5:
        return (
            f"likely luck ({figures}): the best parameters are what the search fitted to this "
            "history; expect them to do worse on new data"
        )
    if pbo.pbo <= 0.2 and dsr.dsr > DSR_THRESHOLD:
        return f"unlikely to be luck ({figures}); confirm it out of sample (walk-forward)"
    return f"inconclusive ({figures}): more data or fewer trials would tell"


def verdict_lines(verdict: Verdict) -> list[str]:
    """The statistics in words, one line each (for the console and the report)."""
    lines: list[str] = []
    if verdict.pbo is not None:
        pbo = verdict.pbo
        lines.append(
            f"PBO {pbo.pbo:.2f}: in {pbo.pbo:.0%} of {pbo.n_combinations:,} splits of "
            f"{pbo.n_slices} time slices the best trial in sample ranked at or below the median "
            f"out of sample (noise: about 0.5); it lost money out of sample in "
            f"{pbo.prob_oos_loss:.0%}"
        )
    if verdict.dsr is not None:
        dsr = verdict.dsr
        lines.append(
            f"deflated Sharpe {dsr.dsr:.2f}: the best trial's daily Sharpe {dsr.sharpe:.3f} "
            f"against {dsr.benchmark:.3f} expected from the best of {dsr.n_trials} trials of "
            f"no skill, over {dsr.n_bars} days"
        )
    stability = verdict.stability
    if stability is not None and stability.retention is not None:
        lines.append(
            f"stability: {stability.n_neighbours} trials within {stability.radius:.0%} of each "
            f"range around the best keep {stability.retention:.0%} of its score (median)"
        )
    lines.append(f"verdict: {verdict.words}")
    return lines
