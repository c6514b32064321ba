"""Python's cyclic garbage collector kept out of the way where time matters: one module for
the backtest loop and the live bar-to-order window.

The backtest loop allocates a few dozen objects per visited bar (events, steps, orders, fills) and
frees almost all of them by reference counting; cycles are rare. With the default
thresholds the collector still runs every 700 allocations and, each time the old
generation has grown by a quarter, walks every object the process holds — the pandas,
numpy and config objects of the set-up included. Measured on the 527,040-bar BTC 1m year
that was a fifth of the run's CPU time.

``quiet_collector`` freezes what exists when the loop starts (``gc.freeze``: it is not
walked again until the loop ends) and collects the young generation every 50,000
allocations instead of 700. The collector stays on, so a cycle made in the loop is still
freed; everything is put back as it was when the loop ends, even by an exception. A process
that froze objects of its own (a server after its start-up) keeps them frozen.

The live path, between a bar's close and its order. Measured on the paper path
(``bench/paper_latency.py``): the collections that landed between a poll's start and its
order cost up to 7 ms (young generations) each, and a full collection of a trading process,
its start-up objects included (markets, the strategy's libraries, the sandbox's data in
paper), took about half a second. So a poll runs with the collector paused
(``pause_collector``; reference counting still frees everything not in a cycle, and what
piled up is collected at the first allocation after the poll, once the order is out), and a
long-running process moves what start-up left alive out of the collector's sight
(``startup_frozen``: ``gc.freeze``), so a full collection only ever walks what came later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Freeze the objects made so far and collect less often, for the ``with`` block."""
    thresholds = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0  # a process that froze its own objects keeps them so
    if freezing:
        gc.freeze()
    gc.set_threshold(max(YOUNG_THRESHOLD, thresholds[0]), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freezing:
            gc.unfreeze()


def pause_collector() -> bool:
    """Switch the cyclic collector off; return whether it was on, for ``resume_collector``.

    Called, not entered as a ``with`` block: entering one makes a bound method, and an
    allocation can itself start a collection, before the pause has begun. A pause inside
    another finds the collector off and leaves it off."""
    was_on = gc.isenabled()
    gc.disable()
    return was_on


def resume_collector(was_on: bool) -> None:
    """Put the collector back as ``pause_collector`` found it."""
    if was_on:
        gc.enable()


@contextmanager
def startup_frozen() -> Iterator[None]:
    """Collect once, then leave every object alive now out of the collections made in the
    block: what a trading process loaded to start stays for its life, and need not be
    walked again. The objects are handed back to the collector when the block ends (a
    command run inside a test's process leaves nothing frozen behind)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
