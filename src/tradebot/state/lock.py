"""One trading bot per database: an exclusive lock held for the whole life of the process.

Two bots on one database and one API key both trade: each decides the same bar, and under
Binance's client-id rule (ids unique among *open* orders only) both orders are real. The
bot therefore takes this lock before it touches any state, and a second one is refused
with the PID and host of the holder.

The lock dies with its process, so a crashed or SIGKILLed bot never leaves it behind:
SQLite uses ``flock`` on a file beside the database (``<database>.lock``, which stays
there, holding the last holder's PID, host and start time); PostgreSQL uses a session
advisory lock on a connection kept open for the purpose. Readers (``tradebot status``,
reports, the dashboard) never take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import URL, Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tradebot.domain.errors import StateError
from tradebot.state.inspection import check_location, sqlite_file
from tradebot.state.url import database_url

ADVISORY_KEY = 0x7472_6164_6562_6F74  # "tradebot" in ASCII: the key of the PostgreSQL lock
_HOLDER_SQL = text(
    "SELECT a.application_name, host(a.client_addr) FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def holder_text() -> str:
    """Who this process is, as a refused second bot will read it."""
    return f"PID {os.getpid()} on host {socket.gethostname()}"


class InstanceLock:
    """The held lock; ``release()`` (or leaving the ``with`` block) lets another bot in."""

    def __init__(self, location: str, fd: int | None = None, link: Connection | None = None):
        """Wrap an acquired lock: a locked file descriptor or an advisory-locked connection."""
        self.location = location
        self._fd = fd
        self._link = link

    def release(self) -> None:
        """Give the lock up (idempotent). The lock file itself stays: deleting it would let
        two processes lock two different files of the same name."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._link is not None:
            with contextlib.suppress(SQLAlchemyError):  # a dead link has released it already
                self._link.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            self._link.close()
            self._link = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()


def acquire_instance_lock(url_or_path: str | Path | URL) -> InstanceLock:
    """Take the database's instance lock without waiting; an in-memory database needs none.

    Raises:
        StateError: another process holds it (the message names its PID and host), or the
            database path cannot be used.
    """
    url = database_url(url_or_path)
    path = sqlite_file(url)
    if path is not None:
        check_location(url)
        return _lock_file(path)
    if url.get_backend_name() == "sqlite":
        return InstanceLock(":memory:")
    return _lock_server(url)


def _lock_file(database: Path) -> InstanceLock:
    lock_path = database.with_name(database.name + ".lock")
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:  # a read-only mount, say, which the permission check cannot see
        raise StateError(
            f"cannot write beside the database {database}: {e.strerror} ({e.filename}). "
            "Make its folder writable or choose another database.path (or --db)"
        ) from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        raise StateError(_in_use(str(database), holder or "another process")) from None
    since = datetime.now(UTC).isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{holder_text()} since {since}\n".encode(), 0)
    return InstanceLock(str(database), fd=fd)


def _lock_server(url: URL) -> InstanceLock:
    masked = url.render_as_string(hide_password=True)
    name = f"tradebot {holder_text()}"[:63]  # PostgreSQL keeps 63 bytes of it
    engine = create_engine(url, poolclass=NullPool, connect_args={"application_name": name})
    try:
        link = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = link.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            if got.scalar_one():
                return InstanceLock(masked, link=link)
            holder = _server_holder(link)
        except BaseException:
            link.close()
            raise
        link.close()
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise StateError(f"cannot lock the database at {masked}: {reason}") from e
    finally:
        _dispose_keeping_link(engine)
    raise StateError(_in_use(masked, holder))


def _server_holder(link: Connection) -> str:
    key = {"hi": ADVISORY_KEY >> 32, "lo": ADVISORY_KEY & 0xFFFF_FFFF}
    row = link.execute(_HOLDER_SQL, key).first()
    if row is None:
        return "another session"
    name, address = str(row[0] or ""), row[1]
    holder = name.removeprefix("tradebot ") if name.startswith("tradebot ") else "a session"
    return holder + (f" (connected from {address})" if address else "")


def _dispose_keeping_link(engine: Engine) -> None:
    # NullPool: disposing closes nothing that is checked out, so the held link stays open.
    engine.dispose(close=False)


def _in_use(location: str, holder: str) -> str:
    return (
        f"the database {location} is in use by another tradebot ({holder}). One bot per "
        "database: two would both trade the same account. Stop that bot first (SIGTERM or "
        "Ctrl-C), or give this one its own database with --db. Read-only commands such as "
        "`tradebot status` work while it runs"
    )
