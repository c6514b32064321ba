"""Start-up's objects frozen for a trading run, and handed back when it ends: a command run
inside a test's process (``tradebot run --replay``) left 670,000 objects frozen for every
later test of that worker (the backtest's collector tests read the freeze count)."""

from __future__ import annotations

import gc

from tradebot.orchestrator.heap import startup_frozen


def test_startup_frozen_freezes_inside_the_block_and_leaves_nothing_frozen() -> None:
    with startup_frozen():
        inside = gc.get_freeze_count()

    assert inside > 0
    assert gc.get_freeze_count() == 0
