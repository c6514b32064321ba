"""The protections' locks as saved: once each, read back exactly, lifted but never deleted."""

from __future__ import annotations

from tradebot.domain.locks import ALL_SYMBOLS, Lock
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
