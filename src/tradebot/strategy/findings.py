"""What the lookahead check reports: each value that depended on the future, and where."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

INDICATOR = "indicator"
"""An indicator column changed at a bar when later bars were removed."""
SIGNAL = "signal"
"""The signal at a bar changed when later bars were removed."""
READ = "read"
"""``generate_signals`` read (or sliced up to) a bar after the one it decided."""
CANDIDATES = "candidates"
"""A bar outside ``signal_candidates`` signalled: a backtest would have skipped it."""
SIGNAL_COLUMN = "signal"
FULL_HISTORY = "full history"


@dataclass(frozen=True, slots=True)
class LookaheadFinding:
    """One column, signal, read or candidate set that depended on the future.

    ``first_bar`` is the earliest bar (0-based row) found, in the history cut to ``cut``
    bars (``n_bars`` for the full history); the values are those at that bar with the
    future (``full_value``) and without it (``truncated_value``). ``max_abs_diff`` is over
    every cut (``inf`` when one side is NaN, NaN for text); ``n_cuts`` counts the cuts (or
    bars, for candidates) affected. ``revealed_by`` says which kind of cut showed it first,
    ``position`` whether the strategy was asked flat or holding.
    """

    column: str
    first_bar: int
    first_ts_ms: int
    cut: int
    full_value: float | str
    truncated_value: float | str
    max_abs_diff: float
    n_cuts: int
    kind: str = INDICATOR
    revealed_by: str = ""
    position: str = ""


class Tally:
    """Findings merged per (kind, column, position): the earliest bar, the worst difference."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str, str], LookaheadFinding] = {}
        self._worst: dict[tuple[str, str, str], float] = {}
        self._count: dict[tuple[str, str, str], int] = {}

    def add(self, finding: LookaheadFinding) -> None:
        """Count one more finding of its kind, column and position."""
        key = (finding.kind, finding.column, finding.position)
        seen = self._first.get(key)
        self._count[key] = self._count.get(key, 0) + finding.n_cuts
        diff = finding.max_abs_diff
        worst = self._worst.get(key, math.nan)
        if not math.isnan(diff):
            self._worst[key] = diff if math.isnan(worst) else max(worst, diff)
        if seen is None or finding.first_bar < seen.first_bar:
            self._first[key] = finding

    def findings(self) -> tuple[LookaheadFinding, ...]:
        """Every merged finding, earliest bar first."""
        merged = [
            replace(f, max_abs_diff=self._worst.get(key, math.nan), n_cuts=self._count[key])
            for key, f in self._first.items()
        ]
        return tuple(sorted(merged, key=lambda f: (f.first_bar, f.kind, f.column, f.position)))
