"""A basket's markets on one timeline, the union of their bar times: which bar of each
market is the last at each time, and its prices there (the basket result's legs).
"""

from __future__ import annotations

import numpy as np

from tradebot.backtest.result import Leg
from tradebot.strategy.base import Bars


def held_on(
    bars: Bars,
    visits: np.ndarray,
    qty: np.ndarray,
    exposed: np.ndarray,
    timeline: np.ndarray,
    offset: int | None,
) -> Leg:
    """A symbol's leg on the timeline: what its last visit at or before each time left held
    (none before its first), at its last close then (``visits``: the bars it was visited at,
    in order; ``qty`` and ``exposed``: what each left).

    When its bars are a run of the timeline's times (``offset``: ``run_offset``) each is
    made for its own bars, as a single market's result is (each visit's holding repeated
    over the bars it lasts), and laid on the timeline in three slices: nothing before its
    data, its bars, its last bar after. Otherwise every time searches for its bar and
    visit: a gather of each column over the timeline, several times the cost.
    """
    n = bars.n_bars
    if offset is None or not n:
        bar = np.searchsorted(bars.ts_ms, timeline, side="right") - 1  # -1: not yet
        known = bar >= 0
        # visits at or before bar ``b`` (-1: none yet): ``upto[b + 1]``
        upto = np.concatenate(([0], np.cumsum(np.bincount(visits, minlength=n))))
        visit = upto[bar + 1]  # the last visit's place in ``qty`` and ``exposed``, from 1
        held = np.concatenate(([0.0], qty))[visit]
        close = np.where(known, bars["close"][np.maximum(bar, 0)], 0.0)
        return leg_on(bars, timeline, bar, held * close, np.concatenate(([False], exposed))[visit])
    lasting = np.diff(np.concatenate((np.zeros(1, np.int64), visits, np.full(1, n))))
    length = len(timeline)
    close = bars["close"]
    value = np.repeat(np.concatenate(([0.0], qty)), lasting) * close  # per bar, then laid
    return Leg(
        _laid(close, offset, length, np.nan, last=True),
        _laid(bars["high"], offset, length, np.nan, last=False),
        _laid(bars["low"], offset, length, np.nan, last=False),
        _laid(value, offset, length, 0.0, last=True),
        _laid(
            np.repeat(np.concatenate(([False], exposed)), lasting), offset, length, False, last=True
        ),
    )


def _laid(
    values: np.ndarray, offset: int, length: int, before: float | bool, *, last: bool
) -> np.ndarray:
    """A run's per-bar ``values`` on a timeline of ``length`` from ``offset``: ``before``
    ahead of them and after them their last value (``last``) or ``before`` again."""
    out = np.empty(length, dtype=values.dtype)
    end = offset + len(values)
    out[:offset] = before
    out[offset:end] = values
    out[end:] = values[-1] if last else before
    return out


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
