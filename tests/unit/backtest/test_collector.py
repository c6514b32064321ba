"""The backtest loop's collector settings are put back as they were, whatever happens."""

from __future__ import annotations

import gc

import pytest

from tradebot.backtest.collector import YOUNG_THRESHOLD, quiet_collector


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
    # Arrange
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        # Act
        with quiet_collector():
            pass
        # Assert
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
