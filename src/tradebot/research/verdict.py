"""The findings of an assessment in plain words, one sentence a statistic, then a verdict."""

from __future__ import annotations

from tradebot.research.assessment import DSR_THRESHOLD, SIGNIFICANCE, Assessment

_PLATEAU = 0.5  # neighbours keeping half the best value: a plateau, not a spike
_ROBUST_WFE = 0.5  # Pardo: out of sample keeps at least half of the in-sample return
_CHANCE_PBO = (0.4, 0.6)  # selecting among noise gives about 0.5


def findings(a: Assessment) -> list[str]:
    """One sentence per figure, saying what it means for this strategy."""
    wf, m = a.walk_forward, a.walk_forward.metrics
    lines = [
        f"Out of sample ({len(wf.folds)} folds, {m.n_bars:,} bars) the walk-forward returned "
        f"{m.total_return_pct:+.2f} % (max drawdown {m.max_drawdown_pct:.2f} %, "
        f"{m.total_trades} trades) against {m.buy_and_hold_return_pct:+.2f} % for buy & hold.",
        _efficiency(wf.efficiency),
    ]
    if a.timing is not None:
        lines.append(
            f"Random entries with the same exposure ({a.timing.n_trades} holdings, "
            f"{a.timing.exposed_bars:,} bars in the market) did as well or better "
            f"{a.timing.p_value:.1%} of the time (p = {a.timing.p_value:.3f}): "
            + ("the timing beats chance." if a.timing.p_value < SIGNIFICANCE else "chance.")
        )
    d = a.dsr
    lines.append(
        f"Deflated Sharpe ratio {d.dsr:.3f}: the best of {d.n_trials} parameter sets over the "
        f"whole period has a per-{a.period} Sharpe of {d.sharpe:.4f} against {d.benchmark:.4f} "
        "expected from the best of as many strategies without skill; "
        + (
            "it survives the deflation."
            if d.dsr > DSR_THRESHOLD
            else "it does not beat the luck of the draw."
        )
    )
    if a.pbo is not None:
        lines.append(
            f"Probability of backtest overfitting {a.pbo.pbo:.2f}: in {a.pbo.pbo:.0%} of "
            f"{a.pbo.n_combinations:,} in/out-of-sample splits the in-sample best ranked in "
            "the bottom half out of sample" + _pbo_meaning(a.pbo.pbo)
        )
    retention = a.stability.retention if a.stability is not None else None
    if a.stability is not None and a.stability.n_neighbours == 0:
        lines.append(
            "No other trial lies near the best point, so its stability cannot be judged: "
            "try more trials or a finer grid."
        )
    elif a.stability is not None and retention is not None:
        kind = "a plateau" if retention >= _PLATEAU else "an isolated peak"
        lines.append(
            f"Around the best point its {a.stability.n_neighbours} neighbours keep "
            f"{retention:.0%} of its value: {kind}."
        )
    if a.shuffle is not None and a.bootstrap is not None:
        dd = a.shuffle.drawdown_percentiles()
        ret = a.bootstrap.return_percentiles()
        lines.append(
            f"Monte Carlo over the out-of-sample trades: max drawdown {dd[50.0]:.2f} % "
            f"(median) to {dd[95.0]:.2f} % (95th percentile) in another order; bootstrap "
            f"return {ret[5.0]:+.2f} % to {ret[95.0]:+.2f} % (5th to 95th percentile)."
        )
    return lines


def verdict(a: Assessment) -> str:
    """The conclusion in one sentence, naming every check that failed."""
    if a.has_edge:
        return (
            "Verdict: evidence of a real edge. The parameters chosen in sample earned on "
            "unseen data, their timing beats random entries, and the best Sharpe survives "
            "the deflation for the number of trials."
        )
    failed = []
    if a.walk_forward.metrics.total_return_pct <= 0:
        failed.append("out of sample it lost money")
    if a.timing is None:
        failed.append("out of sample it never held a position")
    elif a.timing.p_value >= SIGNIFICANCE:
        failed.append(f"its timing did no better than random entries (p = {a.timing.p_value:.2f})")
    if a.dsr.dsr <= DSR_THRESHOLD:
        failed.append(
            f"the best Sharpe does not survive deflation for {a.dsr.n_trials} trials "
            f"(DSR {a.dsr.dsr:.2f} <= {DSR_THRESHOLD})"
        )
    return (
        f"Verdict: no evidence of an edge: {'; '.join(failed)}. "
        "Do not trade these parameters on this basis."
    )


def _pbo_meaning(pbo: float) -> str:
    low, high = _CHANCE_PBO
    if pbo < low:
        return ": the selection mostly carries over."
    if pbo <= high:
        return ": about what chance gives."
    return ": worse than chance, the best in sample tends to be among the worst out of it."


def _efficiency(value: float | None) -> str:
    if value is None:
        return "Walk-forward efficiency n/a: the in-sample windows did not earn."
    meaning = (
        "out of sample kept most of what in sample promised."
        if value >= _ROBUST_WFE
        else "in sample promised much more than out of sample delivered."
    )
    return f"Walk-forward efficiency {value:.2f} (annualised out/in-sample return): {meaning}"
