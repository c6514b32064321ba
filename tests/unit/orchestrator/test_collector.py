"""The collector settings are put back as they were, whatever happens: the backtest loop's, and
start-up's frozen objects after a trading run."""

from __future__ import annotations

import gc

import pytest

from tradebot.orchestrator.collector import YOUNG_THRESHOLD, quiet_collector, startup_frozen


def test_quiet_collector_inside_block_freezes_and_collects_less_often() -> None:
    # Arrange
    before = gc.get_threshold()
    # Act
    with quiet_collector():
        inside, frozen = gc.get_threshold(), gc.get_freeze_count()
    # Assert
    assert inside[0] >= YOUNG_THRESHOLD
    assert frozen > 0
    assert gc.isenabled()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_quiet_collector_exception_in_block_restores_settings() -> None:
    # Arrange
    before = gc.get_threshold()
    # Act
    with pytest.raises(RuntimeError, match="boom"), quiet_collector():
        raise RuntimeError("boom")
    # Assert
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_quiet_collector_process_that_froze_its_own_objects_keeps_them_frozen() -> None:
    # Arrange: an object of the process's own, frozen (out of every generation the
    # collector walks). The frozen count is not compared: a frozen object freed meanwhile
    # (xdist's messaging thread frees its own) lowers it, which made this test flaky.
    mine = [object()]
    gc.freeze()
    try:
        # Act
        with quiet_collector():
            pass
        # Assert: still frozen
        assert not any(o is mine for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is mine for o in gc.get_objects())


def test_startup_frozen_freezes_inside_the_block_and_leaves_nothing_frozen() -> None:
    # a command run inside a test's process (`tradebot run --replay`) left 670,000 objects
    # frozen for every later test of that worker (the quiet_collector tests read the count)
    with startup_frozen():
        inside = gc.get_freeze_count()

    assert inside > 0
    assert gc.get_freeze_count() == 0
