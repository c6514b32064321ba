"""Verify ``signal_candidates``: no bar outside them may signal.

The backtester visits only candidate bars (and bars where an order is working), so a
candidate set that drops a signalling bar drops its trade from the backtest without a
trace: a filter on the next bar there is a peek no other check sees. This asks every bar,
flat and holding, and names each bar that signalled outside the candidates.
"""

from __future__ import annotations

import math

from tradebot.domain.decisions import SignalAction
from tradebot.strategy.findings import CANDIDATES, FULL_HISTORY, LookaheadFinding
from tradebot.strategy.trial import Trial

_TRADING = frozenset({str(SignalAction.BUY), str(SignalAction.SELL)})


def verify_candidates(trial: Trial) -> list[LookaheadFinding]:
    """One finding per holding whose signals fall outside the trial's candidates.

    ``trial`` must have asked every bar from 0 (the full-history trial does). The finding
    names the first such bar and counts them all in ``n_cuts``.
    """
    if trial.candidates is None:
        return []
    allowed = {int(j) for j in trial.candidates}
    found: list[LookaheadFinding] = []
    for holding, actions in trial.signals.items():
        outside = [
            j
            for j, action in enumerate(actions, start=trial.start)
            if action in _TRADING and j not in allowed
        ]
        if outside:
            j = outside[0]
            found.append(
                LookaheadFinding(
                    "signal_candidates",
                    j,
                    int(trial.bars.ts_ms[j]),
                    trial.bars.n_bars,
                    actions[j - trial.start],
                    "not a candidate: a backtest skips the bar",
                    math.nan,
                    len(outside),
                    CANDIDATES,
                    FULL_HISTORY,
                    holding.label,
                )
            )
    return found
