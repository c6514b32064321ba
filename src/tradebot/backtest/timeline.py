"""A basket's markets on one timeline, the union of their bar times: which bar of each
market is the last at each time, and its prices there (the basket result's legs).
"""

from __future__ import annotations

import numpy as np

from tradebot.backtest.result import Leg
from tradebot.strategy.base import Bars


def leg_on(
    bars: Bars, timeline: np.ndarray, bar: np.ndarray, value: np.ndarray, exposed: np.ndarray
) -> Leg:
    """A symbol's prices on the timeline (``bar``: its last bar at each time, -1 before),
    with the value held of it and whether that was a position."""
    known = bar >= 0
    at = np.maximum(bar, 0)
    own = known & (bars.ts_ms[at] == timeline)  # the symbol has a bar at this time
    close = np.where(known, bars["close"][at], np.nan)
    high = np.where(own, bars["high"][at], np.nan)
    low = np.where(own, bars["low"][at], np.nan)
    return Leg(close, high, low, value, exposed.astype(bool))


def run_offset(times: np.ndarray, timeline: np.ndarray) -> int | None:
    """Where ``times`` (a symbol's bar times, all on the ``timeline``) lie on it as one run
    of consecutive times (None: the timeline has other times between them). Both only
    increase, so a run as long as ``times`` that starts and ends where they do is them."""
    if not len(times):
        return None
    start = int(np.searchsorted(timeline, times[0]))
    end = start + len(times)
    return start if end <= len(timeline) and timeline[end - 1] == times[-1] else None


def bars_on(times: np.ndarray, timeline: np.ndarray, offset: int | None) -> np.ndarray:
    """The symbol's last bar opened at or before each time of the timeline (-1: none yet):
    counted from ``offset`` (``run_offset``) when its bars are a run of the timeline's
    times, as a search of every time would find them; searched for otherwise."""
    if offset is None:
        return np.searchsorted(times, timeline, side="right") - 1
    bar = np.arange(-offset, len(timeline) - offset, dtype=np.intp)
    bar[:offset] = -1
    bar[offset + len(times) :] = len(times) - 1
    return bar
