"""One bot per database: the instance lock, held by a real process on a real SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tradebot.domain.errors import StateError
from tradebot.state.lock import acquire_instance_lock

HOLD = (
    "import sys\n"
    "from tradebot.state.lock import acquire_instance_lock\n"
    "lock = acquire_instance_lock(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
)


@contextmanager
def holder(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that takes the lock and keeps it until its stdin closes."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "held"
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


def test_instance_lock_held_by_another_process_refuses_naming_pid_and_host(
    tmp_path: Path,
) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    # Act
    with holder(db) as proc, pytest.raises(StateError) as refused:
        acquire_instance_lock(db)
    # Assert
    message = str(refused.value)
    assert f"PID {proc.pid} on host {socket.gethostname()}" in message
    assert str(db) in message
    assert "--db" in message


def test_instance_lock_sigkilled_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    with holder(db) as proc:
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        # Act
        lock = acquire_instance_lock(db)
    # Assert: taken at once, and it now names this process
    with lock:
        assert f"PID {os.getpid()}" in (tmp_path / "bot.db.lock").read_text()
        with pytest.raises(StateError):
            acquire_instance_lock(db)  # a second open file is refused, even in one process


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
