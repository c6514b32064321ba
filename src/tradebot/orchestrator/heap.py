"""Python's cyclic garbage collector kept out of the way between a bar's close and its order.

Measured on the paper path (``bench/paper_latency.py``): the collections that landed between
a poll's start and its order cost up to 7 ms (young generations) each, and a full collection
of a trading process, its start-up objects included (markets, the strategy's libraries, the
sandbox's data in paper), took about half a second. So a poll runs with the collector
paused (``pause_collector``; reference counting still frees everything not in a cycle, and
what piled up is collected at the first allocation after the poll, once the order is out),
and a long-running process moves what start-up left alive out of the collector's sight
(``startup_frozen``: ``gc.freeze``), so a full collection only ever walks what came later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
