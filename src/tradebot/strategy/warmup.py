"""The recursive (warm-up) check: does the live window give the backtest's indicator values?

Live trading recomputes indicators each bar on the last ``live_window_bars`` candles; a
backtest computes them once on the whole history. A recursive indicator (an EMA, Wilder's
RSI, anything expanding or cumulative) started later has a different value at the same
bar. ``check_warmup`` computes the indicators at a few probe bars from the live window
alone and compares them with the full history's; where they differ beyond ``rtol`` it
searches the window length that agrees, which is how many bars the strategy needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradebot.domain.errors import DataError
from tradebot.strategy.base import Bars, Strategy
from tradebot.strategy.trial import StrategySource, indicators, strategy_factory


@dataclass(frozen=True, slots=True)
class WarmupFinding:
    """An indicator whose value at ``bar`` from the live window differs from the backtest's.

    ``needed_bars`` is the shortest window (found by search, over every probe bar) that
    agrees within the tolerance; None when even the whole history before ``bar`` does not,
    because the value depends on where the data starts (expanding or cumulative values).
    """

    column: str
    bar: int
    full_value: float
    window_value: float
    rel_diff: float
    needed_bars: int | None


@dataclass(frozen=True, slots=True)
class WarmupReport:
    """The outcome of ``check_warmup``."""

    strategy: str
    live_window_bars: int
    probes: tuple[int, ...]
    findings: tuple[WarmupFinding, ...]

    @property
    def needed_bars(self) -> int | None:
        """Bars live trading needs (None: no window is enough), or the declared window."""
        if not self.findings:
            return self.live_window_bars
        needs = [f.needed_bars for f in self.findings]
        return None if None in needs else max(n for n in needs if n is not None)

    @property
    def window_too_short(self) -> bool:
        """True when the live window gives different indicator values than the backtest."""
        return bool(self.findings)


def check_warmup(
    strategy: StrategySource, candles: pd.DataFrame, n_probes: int = 5, *, rtol: float = 1e-6
) -> WarmupReport:
    """Compare indicators from ``live_window_bars`` candles with the full history's.

    Probe bars are spread over the second half of the history, so windows up to half of it
    can be searched.

    Raises:
        DataError: the history is not at least twice the live window.
        StrategyError: ``calculate_indicators`` raised.
    """
    factory = strategy_factory(strategy)
    probe = factory()
    window = probe.live_window_bars
    n = len(candles)
    if n < 2 * window:
        msg = (
            f"warm-up check of {probe.name} needs at least {2 * window} candles"
            f" (twice live_window_bars={window}), got {n}"
        )
        raise DataError(msg)
    full = indicators(factory(), candles)
    probes = sorted({int(p) for p in np.linspace(max(window, n // 2), n - 1, n_probes)})
    worst: dict[str, WarmupFinding] = {}
    for bar in probes:
        diffs = _diffs(factory, candles, full, bar, window, rtol)
        if not diffs:
            continue
        needed = _needed(factory, candles, full, bar, window, rtol)
        for column, (a, b, rel) in diffs.items():
            seen = worst.get(column)
            if seen is not None:
                rel = max(rel, seen.rel_diff)
                if seen.needed_bars is None or needed is None:
                    needed = None
                else:
                    needed = max(needed, seen.needed_bars)
            worst[column] = WarmupFinding(column, bar, a, b, rel, needed)
    return WarmupReport(probe.name, window, tuple(probes), tuple(worst.values()))


def _diffs(
    factory: Callable[[], Strategy],
    candles: pd.DataFrame,
    full: Bars,
    bar: int,
    window: int,
    rtol: float,
) -> dict[str, tuple[float, float, float]]:
    # Columns whose value at ``bar`` computed from the last ``window`` candles is not the
    # full history's, with both values and the relative difference.
    cut = indicators(factory(), candles.iloc[bar + 1 - window : bar + 1])
    found: dict[str, tuple[float, float, float]] = {}
    for column in full:
        a = float(full[column][bar])
        b = float(cut[column][-1]) if column in cut else math.nan
        if a == b or (math.isnan(a) and math.isnan(b)):
            continue
        both = not (math.isnan(a) or math.isnan(b))
        rel = abs(a - b) / max(abs(a), abs(b)) if both else math.inf
        if rel > rtol:
            found[column] = (a, b, rel)
    return found


def _needed(
    factory: Callable[[], Strategy],
    candles: pd.DataFrame,
    full: Bars,
    bar: int,
    window: int,
    rtol: float,
) -> int | None:
    # The shortest window that agrees at ``bar``: double until it does, then bisect.
    low, high = window, min(2 * window, bar + 1)
    while _diffs(factory, candles, full, bar, high, rtol):
        if high == bar + 1:
            return None
        low, high = high, min(2 * high, bar + 1)
    while high - low > 1:
        mid = (low + high) // 2
        if _diffs(factory, candles, full, bar, mid, rtol):
            low = mid
        else:
            high = mid
    return None if high == bar + 1 else high  # all of it: the value depends on the start
