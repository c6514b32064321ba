"""The protections' locks as saved: once each, read back exactly, lifted but never deleted."""

from __future__ import annotations

import pytest

from tradebot.domain.errors import StateError
from tradebot.domain.locks import ALL_SYMBOLS, Lock
from tradebot.state.control import KillSwitchLevel
from tradebot.state.repository import Repository

HOUR = 3_600_000
COOLDOWN = Lock("BTC/USDT", 10 * HOUR, "cooldown", "cooldown of 3 bars after the exit", 7 * HOUR)
GUARD = Lock(ALL_SYMBOLS, 20 * HOUR, "stoploss_guard", "3 stop-losses within 24 bars", 8 * HOUR)
OLD = Lock("ETH/USDT", 5 * HOUR, "cooldown", "cooldown of 1 bars after the exit", 4 * HOUR)


def test_locks_saved_once_each_and_read_back_by_end(repo: Repository) -> None:
    with repo.transaction() as tx:
        for lock in (COOLDOWN, GUARD, OLD, COOLDOWN):
            tx.record_lock(lock)

    assert [s.lock for s in repo.locks()] == [COOLDOWN, GUARD, OLD]
    assert [s.lock for s in repo.locks(after_ms=5 * HOUR)] == [COOLDOWN, GUARD]
    assert [s.lock for s in repo.locks(after_ms=10 * HOUR)] == [GUARD]


def test_remove_locks_of_a_symbol_leaves_the_others_and_keeps_the_row(repo: Repository) -> None:
    with repo.transaction() as tx:
        for lock in (COOLDOWN, GUARD, OLD):
            tx.record_lock(lock)

    with repo.transaction() as tx:
        lifted = tx.remove_locks("BTC/USDT", "alice")
    with repo.transaction() as tx:
        again = tx.remove_locks("BTC/USDT", "bob")

    assert [s.lock for s in lifted] == [COOLDOWN]
    assert again == []
    assert [s.lock for s in repo.locks()] == [GUARD, OLD]
    (row,) = [s for s in repo.locks(lifted=True) if s.removed_ts_ms is not None]
    assert (row.lock, row.removed_by) == (COOLDOWN, "alice")
    with repo.transaction() as tx:
        assert [s.lock for s in tx.remove_locks(None, "carol")] == [GUARD, OLD]
    assert repo.locks() == []


def test_controls_read_the_kill_switch_the_values_asked_and_the_locks_in_force(
    repo: Repository,
) -> None:
    # Arrange
    with repo.transaction() as tx:
        for lock in (COOLDOWN, GUARD, OLD):
            tx.record_lock(lock)
    repo.set_kill_switch(KillSwitchLevel.REDUCING, "by hand")
    repo.set_control("flatten_requested", "1")
    repo.set_control("other", "x")

    # Act
    controls = repo.controls(["flatten_requested", "never_set"], locks_after_ms=5 * HOUR)

    # Assert
    assert controls.kill_switch is KillSwitchLevel.REDUCING
    assert controls.values == {"flatten_requested": "1"}
    assert [s.lock for s in controls.locks] == [COOLDOWN, GUARD]


def test_controls_of_a_fresh_database_are_active_and_empty(repo: Repository) -> None:
    controls = repo.controls(["flatten_requested"], locks_after_ms=0)

    assert (controls.kill_switch, controls.values, controls.locks) == (
        KillSwitchLevel.ACTIVE,
        {},
        [],
    )


def test_controls_refuse_a_kill_switch_that_is_not_a_level(repo: Repository) -> None:
    repo.set_control("kill_switch", "paused")

    with pytest.raises(StateError, match=r"kill_switch='paused' is not one of"):
        repo.controls([], locks_after_ms=0)
