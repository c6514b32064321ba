"""The live cycle's controls read (kill switch, flatten request, locks in force) is made
again only when something may have changed them: a write of this repository to a control it
read or to the locks, or any commit by another connection (SQLite's ``data_version``). Each
case holds the values read to the ones written, and counts the statements the read ran.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tradebot.domain.locks import Lock
from tradebot.state import create_database
from tradebot.state.control import KillSwitchLevel
from tradebot.state.repository import CycleControls, Repository

HOUR = 3_600_000
COOLDOWN = Lock("BTC/USDT", 10 * HOUR, "cooldown", "cooldown of 3 bars after the exit", 7 * HOUR)
KEYS = ["flatten_requested"]


class Statements:
    """The SQL statements a database ran (its engine's cursor executions)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def counted(repo: Repository) -> Iterator[Statements]:
    statements = Statements()
    engine = repo._db.engine
    event.listen(engine, "before_cursor_execute", statements)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", statements)


def read(repo: Repository, after_ms: int = 0) -> tuple[KillSwitchLevel, dict[str, str], list[Lock]]:
    controls: CycleControls = repo.controls(KEYS, locks_after_ms=after_ms)
    return controls.kill_switch, controls.values, [s.lock for s in controls.locks]


def sqlite_repo(tmp_path: Path) -> Repository:
    return Repository(create_database(tmp_path / "bot.db"), now_ms=lambda: 8 * HOUR)


def test_controls_unchanged_are_not_read_again(tmp_path: Path) -> None:
    # Arrange
    repo = sqlite_repo(tmp_path)
    repo.set_control("flatten_requested", "0")
    with repo.transaction() as tx:
        tx.record_lock(COOLDOWN)
    first = read(repo, 8 * HOUR)
    # Act: the bot's own writes of what the read does not cover (the bar decided)
    repo.set_last_bar_ts("BTC/USDT", "1m", 8 * HOUR)
    with counted(repo) as statements:
        again, later = read(repo, 8 * HOUR), read(repo, 10 * HOUR)
    # Assert
    assert first == again == (KillSwitchLevel.ACTIVE, {"flatten_requested": "0"}, [COOLDOWN])
    assert later == (KillSwitchLevel.ACTIVE, {"flatten_requested": "0"}, [])
    assert statements.count == 0  # SQLite's data_version alone, on the raw connection


def test_controls_written_by_this_repository_are_read_again(tmp_path: Path) -> None:
    # Arrange
    repo = sqlite_repo(tmp_path)
    read(repo)
    # Act / Assert: each write of a control read or of the locks is seen at the next read
    repo.set_kill_switch(KillSwitchLevel.REDUCING, "by hand")
    assert read(repo) == (KillSwitchLevel.REDUCING, {}, [])
    repo.set_control("flatten_requested", "1")
    assert read(repo) == (KillSwitchLevel.REDUCING, {"flatten_requested": "1"}, [])
    with repo.transaction() as tx:
        tx.record_lock(COOLDOWN)
    assert read(repo) == (KillSwitchLevel.REDUCING, {"flatten_requested": "1"}, [COOLDOWN])
    with repo.transaction() as tx:
        tx.remove_locks(None, "alice")
    assert read(repo) == (KillSwitchLevel.REDUCING, {"flatten_requested": "1"}, [])
    assert read(repo, -HOUR)[2] == []  # an earlier time than read before: read again
    # another repository on the same database (its connections are this one's)
    Repository(repo._db).set_kill_switch(KillSwitchLevel.HALTED, "dashboard")
    assert read(repo)[0] is KillSwitchLevel.HALTED


def test_controls_written_by_another_process_are_read_again(tmp_path: Path) -> None:
    # Arrange: the bot's repository, and `tradebot stop` / `locks` on the same file
    repo = sqlite_repo(tmp_path)
    other = sqlite_repo(tmp_path)
    read(repo)
    # Act / Assert
    other.set_kill_switch(KillSwitchLevel.HALTED, "tradebot stop")
    assert read(repo) == (KillSwitchLevel.HALTED, {}, [])
    with other.transaction() as tx:
        tx.record_lock(COOLDOWN)
    assert read(repo) == (KillSwitchLevel.HALTED, {}, [COOLDOWN])
    with sqlite3.connect(tmp_path / "bot.db") as raw:  # by hand
        raw.execute("UPDATE control_state SET value = 'ACTIVE' WHERE key = 'kill_switch'")
    assert read(repo) == (KillSwitchLevel.ACTIVE, {}, [COOLDOWN])
