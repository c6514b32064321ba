"""Detect lookahead bias: values that change when future bars are removed.

A causal strategy computes the same indicator value and the same signal at bar ``j``
whether the history ends at ``j`` or years later. ``check_lookahead`` runs a fresh instance
of the strategy on the full history, then a fresh instance on each of many truncated
histories ``candles[:k]`` (``cuts.py`` says where), and compares every indicator column and
the signals, asked flat and holding, at the bars both runs share. Anything that differs
used bars ``>= k``: a ``shift(-1)``, a centred window, a whole-series normalisation, a
back-filled warm-up, a threshold fitted once on the first (full) history it saw, state kept
from the bars it was shown. On the full history every signal is also asked through guarded
arrays, so a read of a later bar (even a slice that reaches past it) is named outright, and
``signal_candidates`` is verified against the signals of every bar (``candidates.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradebot.domain.errors import DataError, LookaheadError, StrategyError
from tradebot.strategy.base import Bars, FloatArray
from tradebot.strategy.candidates import verify_candidates
from tradebot.strategy.cuts import plan_cuts
from tradebot.strategy.findings import (
    FULL_HISTORY,
    INDICATOR,
    READ,
    SIGNAL,
    SIGNAL_COLUMN,
    LookaheadFinding,
    Tally,
)
from tradebot.strategy.trial import (
    HOLDINGS,
    StrategySource,
    Trial,
    probe_reads,
    run_trial,
    strategy_factory,
)

__all__ = ["SIGNAL_COLUMN", "LookaheadFinding", "LookaheadReport", "check_lookahead"]

STATEFUL_CUT_SHARE = 4
"""A stateful strategy gets this many times fewer random and after-signal cuts (each cut
replays every bar from 0, so the check's cost grows with the square of the history)."""


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """The outcome of ``check_lookahead``: the cuts tried, why, and what changed."""

    strategy: str
    n_bars: int
    cuts: tuple[int, ...]
    columns: tuple[str, ...]
    findings: tuple[LookaheadFinding, ...]
    cut_reasons: Mapping[int, str] = field(default_factory=dict)
    signal_bars: int = 0
    stateful: bool = False
    skipped_cuts: int = 0

    @property
    def has_lookahead(self) -> bool:
        """True when any indicator value, signal or candidate set depended on a later bar."""
        return bool(self.findings)


def check_lookahead(
    strategy: StrategySource,
    candles: pd.DataFrame,
    n_cuts: int = 40,
    seed: int = 0,
    *,
    rtol: float = 1e-9,
    signal_bars: int = 100,
    max_signal_cuts: int = 1000,
    every_bar: bool = False,
) -> LookaheadReport:
    """Recompute ``strategy`` on truncated histories and report what changed.

    ``strategy`` is a factory of fresh instances or a pristine instance (deep-copied for
    every history). Indicator columns are compared on every shared bar (NaN-aware, relative
    tolerance ``rtol``); signals on the last ``signal_bars`` bars before each cut (all of
    them for a strategy whose state changes as it is asked), flat and holding.
    ``every_bar`` cuts after every bar instead of the planned cuts (``cuts.py``): it also
    finds a peek hidden in instance state that only removes signals, at a cost quadratic
    in the history.

    Raises:
        DataError: fewer candles than the warm-up plus three.
        StrategyError: the strategy raised on the full history, or in
            ``calculate_indicators`` on a truncated one longer than its warm-up.
    """
    factory = strategy_factory(strategy)
    probe = factory()
    _require_length(probe.name, probe.warmup_bars, len(candles))
    full = run_trial(factory, candles, HOLDINGS, 0, full=True, stateful=True)
    n_bars = full.bars.n_bars
    tally = Tally()
    for holding, peek in full.reads + probe_reads(factory, candles, HOLDINGS):
        tally.add(_read_finding(full.bars, peek, n_bars, FULL_HISTORY, holding.label))
    for finding in verify_candidates(full):
        tally.add(finding)
    trading = sorted(
        {j for acts in full.signals.values() for j, a in enumerate(acts) if a in ("BUY", "SELL")}
    )
    # Each cut of a stateful strategy replays every bar before it: fewer, spread evenly.
    share = STATEFUL_CUT_SHARE if full.stateful else 1
    plan = plan_cuts(
        n_bars,
        probe.warmup_bars,
        trading,
        n_cuts=max(n_cuts // share, 3),
        seed=seed,
        max_signal_cuts=max(max_signal_cuts // share, 1),
        every_bar=every_bar,
    )
    skipped = 0
    for k, reason in plan.items():
        try:
            cut = run_trial(
                factory,
                candles.iloc[:k],
                HOLDINGS,
                0 if full.stateful else max(0, k - signal_bars),
                full=False,
                stateful=full.stateful,
            )
        except StrategyError:
            if k > probe.warmup_bars + 1:
                raise
            skipped += 1  # too short for the strategy to compute anything: nothing to compare
            continue
        for finding in _compare(full, cut, k, reason, rtol):
            tally.add(finding)
    return LookaheadReport(
        probe.name,
        n_bars,
        tuple(plan),
        tuple(full.bars),
        tally.findings(),
        plan,
        len(trading),
        full.stateful,
        skipped,
    )


def _require_length(name: str, warmup_bars: int, n_candles: int) -> None:
    minimum = warmup_bars + 3
    if n_candles < minimum:
        msg = (
            f"lookahead check of {name} needs at least {minimum} candles"
            f" (warm-up {warmup_bars} + 3), got {n_candles}"
        )
        raise DataError(msg)


def _compare(full: Trial, cut: Trial, k: int, reason: str, rtol: float) -> list[LookaheadFinding]:
    found = _column_findings(full.bars, cut.bars, k, rtol, reason)
    for holding, got in cut.signals.items():
        want = full.signals[holding][cut.start : k]
        found += _signal_findings(full.bars, want, got, cut.start, k, reason, holding.label)
    for holding, peek in cut.reads:
        found.append(_read_finding(full.bars, peek, k, reason, holding.label))
    return found


def _column_findings(
    full: Bars, cut: Bars, k: int, rtol: float, reason: str
) -> list[LookaheadFinding]:
    findings: list[LookaheadFinding] = []
    ts = int(full.ts_ms[min(k, full.n_bars) - 1])
    if cut.n_bars != k:
        findings.append(
            LookaheadFinding("(rows)", k - 1, ts, k, k, cut.n_bars, math.inf, 1, INDICATOR, reason)
        )
        return findings
    for name in full:
        if name not in cut:
            findings.append(
                LookaheadFinding(
                    name, k - 1, ts, k, "present", "missing", math.inf, 1, INDICATOR, reason
                )
            )
            continue
        a, b = full[name][:k], cut[name]
        bad, worst = _differences(a, b, rtol)
        if len(bad):
            j = int(bad[0])
            findings.append(
                LookaheadFinding(
                    name, j, int(full.ts_ms[j]), k, float(a[j]), float(b[j]), worst, 1,
                    INDICATOR, reason,
                )
            )  # fmt: skip
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
    full: Bars,
    want: list[str],
    got: list[str],
    start: int,
    k: int,
    reason: str,
    position: str,
) -> list[LookaheadFinding]:
    for offset, (a, b) in enumerate(zip(want, got, strict=True)):
        if a != b and not (a.startswith("read ") or b.startswith("read ")):
            j = start + offset
            return [
                LookaheadFinding(
                    SIGNAL_COLUMN, j, int(full.ts_ms[j]), k, a, b, math.nan, 1, SIGNAL, reason,
                    position,
                )
            ]  # fmt: skip
    return []


def _read_finding(
    full: Bars, peek: LookaheadError, k: int, reason: str, position: str
) -> LookaheadFinding:
    return LookaheadFinding(
        peek.column,
        peek.at_bar,
        int(full.ts_ms[peek.at_bar]),
        k,
        f"read bar {peek.bar}",
        f"bars 0..{peek.at_bar} only",
        math.nan,
        1,
        READ,
        reason,
        position,
    )
