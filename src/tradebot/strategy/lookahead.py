"""Detect lookahead bias: values that change when future bars are removed.

A causal strategy computes the same indicator value and the same signal at bar ``j``
whether the history ends at ``j`` or years later. ``check_lookahead`` runs the strategy on
the full history, then on many truncated histories ``candles[:k]``, and compares every
indicator column and every signal at the bars both runs share. Anything that differs used
bars ``>= k``: a ``shift(-1)``, a centred window, a whole-series normalisation, a
higher-timeframe value filled in from a candle that had not closed yet.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tradebot.domain.errors import DataError, StrategyError
from tradebot.strategy.base import Bars, FloatArray, Strategy

SIGNAL_COLUMN = "signal"


@dataclass(frozen=True, slots=True)
class LookaheadFinding:
    """One column (or the signal) that changed when future bars were removed.

    ``first_bar`` is the earliest bar (0-based row) found changed, in the history cut to
    ``cut`` bars; the values are those at that bar. ``max_abs_diff`` is over every cut
    (``inf`` when one side is NaN, NaN for signals); ``n_cuts`` counts the cuts affected.
    """

    column: str
    first_bar: int
    first_ts_ms: int
    cut: int
    full_value: float | str
    truncated_value: float | str
    max_abs_diff: float
    n_cuts: int


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """The outcome of ``check_lookahead``: the cuts tried and what changed."""

    strategy: str
    n_bars: int
    cuts: tuple[int, ...]
    columns: tuple[str, ...]
    findings: tuple[LookaheadFinding, ...]

    @property
    def has_lookahead(self) -> bool:
        """True when any indicator value or signal depended on a later bar."""
        return bool(self.findings)


def choose_cuts(n_bars: int, warmup_bars: int, n_cuts: int, seed: int) -> list[int]:
    """History lengths to try: spread over the data after warm-up, plus the last three.

    Each spread cut is drawn at random inside its own equal segment, so cuts land on every
    phase of a higher timeframe (a 4h candle spans four 1h bars) without clustering.
    """
    low = min(max(warmup_bars + 2, 2), n_bars - 1)
    tail = [k for k in (n_bars - 1, n_bars - 2, n_bars - 3) if k >= low]
    n_spread = max(n_cuts - len(tail), 0)
    high = max(low, n_bars - 3)
    rng = np.random.default_rng(seed)
    edges = np.linspace(low, high, n_spread + 1)
    spread = [
        int(rng.integers(int(a), max(int(b), int(a) + 1))) for a, b in itertools.pairwise(edges)
    ]
    return sorted(set(spread + tail))


@dataclass(slots=True)
class _Tally:
    first: LookaheadFinding
    max_abs_diff: float
    n_cuts: int


def check_lookahead(
    strategy: Strategy,
    candles: pd.DataFrame,
    n_cuts: int = 40,
    seed: int = 0,
    *,
    rtol: float = 1e-9,
    max_signal_bars: int = 2000,
) -> LookaheadReport:
    """Recompute ``strategy`` on truncated histories and report what changed.

    Indicator columns are compared on every shared bar (NaN-aware, relative tolerance
    ``rtol``); signals (their action) on the last ``max_signal_bars`` bars before each cut,
    which bounds the run time on long histories.

    Raises:
        DataError: fewer candles than the warm-up plus three.
        StrategyError: the strategy raised on the full history, or on a truncated one in
            ``calculate_indicators``.
    """
    _require_length(strategy, len(candles))
    full_bars = _indicators(strategy, candles)
    n_bars = full_bars.n_bars
    full_signals = _signals(strategy, full_bars, 0, n_bars, strict=True)
    tallies: dict[str, _Tally] = {}
    cuts = choose_cuts(n_bars, strategy.warmup_bars, n_cuts, seed)
    for k in cuts:
        cut_bars = _indicators(strategy, candles.iloc[:k])
        found = _column_findings(full_bars, cut_bars, k, rtol)
        start = max(0, k - max_signal_bars)
        cut_signals = _signals(strategy, cut_bars, start, k, strict=False)
        found += _signal_findings(full_bars, full_signals, cut_signals, start, k)
        for finding in found:
            _tally(tallies, finding)
    findings = tuple(
        replace(t.first, max_abs_diff=t.max_abs_diff, n_cuts=t.n_cuts)
        for t in sorted(tallies.values(), key=lambda t: (t.first.first_bar, t.first.column))
    )
    return LookaheadReport(strategy.name, n_bars, tuple(cuts), tuple(full_bars), findings)


def _require_length(strategy: Strategy, n_candles: int) -> None:
    minimum = strategy.warmup_bars + 3
    if n_candles < minimum:
        msg = (
            f"lookahead check of {strategy.name} needs at least {minimum} candles"
            f" (warm-up {strategy.warmup_bars} + 3), got {n_candles}"
        )
        raise DataError(msg)


def _indicators(strategy: Strategy, candles: pd.DataFrame) -> Bars:
    try:
        frame = strategy.calculate_indicators(candles.copy())
    except Exception as e:  # strategy barrier: report whose code failed, on how many bars
        msg = f"{strategy.name}.calculate_indicators raised on {len(candles)} bars: {e!r}"
        raise StrategyError(msg) from e
    return Bars.from_frame(frame)


def _signals(strategy: Strategy, bars: Bars, start: int, stop: int, *, strict: bool) -> list[str]:
    actions: list[str] = []
    for i in range(start, stop):
        try:
            actions.append(str(strategy.generate_signals(bars, i, None).action))
        except Exception as e:  # strategy barrier: on a cut history a peek raises IndexError
            if strict:
                msg = f"{strategy.name}.generate_signals raised at bar {i}: {e!r}"
                raise StrategyError(msg) from e
            actions.append(f"raised {type(e).__name__}")
    return actions


def _column_findings(full: Bars, cut: Bars, k: int, rtol: float) -> list[LookaheadFinding]:
    findings: list[LookaheadFinding] = []
    ts = int(full.ts_ms[min(k, full.n_bars) - 1])
    if cut.n_bars != k:
        findings.append(LookaheadFinding("(rows)", k - 1, ts, k, k, cut.n_bars, math.inf, 1))
        return findings
    for name in full:
        if name not in cut:
            findings.append(LookaheadFinding(name, k - 1, ts, k, "present", "missing", math.inf, 1))
            continue
        a, b = full[name][:k], cut[name]
        bad, worst = _differences(a, b, rtol)
        if len(bad):
            j = int(bad[0])
            findings.append(
                LookaheadFinding(name, j, int(full.ts_ms[j]), k, float(a[j]), float(b[j]), worst, 1)
            )
    return findings


def _differences(a: FloatArray, b: FloatArray, rtol: float) -> tuple[np.ndarray, float]:
    with np.errstate(invalid="ignore"):
        gap = np.abs(a - b)
        same = (a == b) | (np.isnan(a) & np.isnan(b)) | (gap <= rtol * np.maximum(abs(a), abs(b)))
    bad = np.flatnonzero(~same)
    if not len(bad):
        return bad, 0.0
    worst = gap[bad]
    return bad, float(np.where(np.isnan(worst), math.inf, worst).max())


def _signal_findings(
    full: Bars, full_signals: list[str], cut_signals: list[str], start: int, k: int
) -> list[LookaheadFinding]:
    for offset, (want, got) in enumerate(zip(full_signals[start:k], cut_signals, strict=True)):
        if want != got:
            j = start + offset
            ts = int(full.ts_ms[j])
            return [LookaheadFinding(SIGNAL_COLUMN, j, ts, k, want, got, math.nan, 1)]
    return []


def _tally(tallies: dict[str, _Tally], finding: LookaheadFinding) -> None:
    seen = tallies.get(finding.column)
    if seen is None:
        tallies[finding.column] = _Tally(finding, finding.max_abs_diff, 1)
        return
    seen.n_cuts += 1
    if not math.isnan(finding.max_abs_diff):
        seen.max_abs_diff = max(seen.max_abs_diff, finding.max_abs_diff)
    if finding.first_bar < seen.first.first_bar:
        seen.first = finding
