"""Where the lookahead check cuts the history, and why each cut is there.

A peek shows only on a history that ends before the bar peeked at. Random cuts find a
one-bar peek at a rare bar by luck; these cuts are placed where peeks matter:

- through the warm-up (every length from one bar to two past the declared warm-up, and at
  least ``MIN_WARMUP_CUTS``): back-filled NaNs and seeds taken from later bars show only
  while the history is shorter than the warm-up;
- right after every bar where the full history signals: a signal confirmed by the next bar
  changes when that bar is gone;
- a number of random cuts spread over the rest, plus the last three bars.

``every_bar`` cuts after every bar instead: exhaustive, and quadratic in the history.
"""

from __future__ import annotations

import itertools

import numpy as np

WARMUP = "warm-up"
AFTER_SIGNAL = "after a signal"
RANDOM = "random"
EVERY_BAR = "every bar"
MIN_WARMUP_CUTS = 30
"""Warm-up cuts run to at least this length: a strategy's declared warm-up can be short."""


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


def plan_cuts(
    n_bars: int,
    warmup_bars: int,
    signal_bars: list[int],
    *,
    n_cuts: int,
    seed: int,
    max_signal_cuts: int,
    every_bar: bool = False,
) -> dict[int, str]:
    """Every cut (history length ``1..n_bars-1``) with the reason it is tried.

    After-signal cuts come first in the reasons (they name the finding best); more than
    ``max_signal_cuts`` signal bars are thinned evenly, keeping the first and the last.
    """
    if every_bar:
        return dict.fromkeys(range(1, n_bars), EVERY_BAR)
    plan: dict[int, str] = {}
    after = sorted({j + 1 for j in signal_bars if 0 < j + 1 < n_bars})
    if len(after) > max_signal_cuts:
        keep = np.linspace(0, len(after) - 1, max_signal_cuts).round().astype(int)
        after = [after[int(k)] for k in np.unique(keep)]
    for k in after:
        plan[k] = AFTER_SIGNAL
    for k in range(1, min(max(warmup_bars + 2, MIN_WARMUP_CUTS), n_bars)):
        plan.setdefault(k, WARMUP)
    for k in choose_cuts(n_bars, warmup_bars, n_cuts, seed):
        if 0 < k < n_bars:
            plan.setdefault(k, RANDOM)
    return dict(sorted(plan.items()))
