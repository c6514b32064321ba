"""One bot per database: the instance lock, held by a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tradebot.domain.errors import StateError
from tradebot.state.lock import InstanceLock, acquire_instance_lock

HOLD = (
    "import os, sys\n"
    "from tradebot.state.lock import acquire_instance_lock\n"
    "lock = acquire_instance_lock(os.environ['LOCK_TARGET'])\n"
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
)


@contextmanager
def holder(target: str) -> Iterator[subprocess.Popen[str]]:
    """Another process that takes the lock and keeps it until its stdin closes."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "LOCK_TARGET": target},  # no URL in argv
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "held"
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file path, or a PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.db")
    return str(request.getfixturevalue("pg_empty_database"))


def test_instance_lock_held_by_another_process_refuses_naming_pid_and_host(
    target: str,
) -> None:
    # Act
    with holder(target) as proc, pytest.raises(StateError) as refused:
        acquire_instance_lock(target)
    # Assert
    message = str(refused.value)
    assert f"PID {proc.pid} on host {socket.gethostname()}" in message
    assert "--db" in message
    assert ":postgres@" not in message, "the password stays masked"


def test_instance_lock_sigkilled_holder_leaves_no_stale_lock(target: str) -> None:
    # Arrange
    with holder(target) as proc:
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        # Act: the server notices the dropped connection at once; allow it a moment
        lock = _acquire_within(target, timeout_s=5.0)
    # Assert: taken, and a second holder (even in this process) is refused
    with lock, pytest.raises(StateError):
        acquire_instance_lock(target)


def _acquire_within(target: str, timeout_s: float) -> InstanceLock:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return acquire_instance_lock(target)
        except StateError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_instance_lock_file_names_the_holder(tmp_path: Path) -> None:
    # Act
    with acquire_instance_lock(tmp_path / "bot.db"):
        written = (tmp_path / "bot.db.lock").read_text()
    # Assert
    assert f"PID {os.getpid()} on host {socket.gethostname()} since " in written


def test_instance_lock_released_lets_the_next_bot_in(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    first = acquire_instance_lock(db)
    # Act
    first.release()
    second = acquire_instance_lock(db)
    # Assert
    second.release()
    assert not db.exists(), "the lock never creates or touches the database file"
