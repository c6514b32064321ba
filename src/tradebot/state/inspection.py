"""Look at a database before using it, and refuse what tradebot cannot or must not write to.

Opening a damaged file, another program's database, a read-only folder or a folder where a
file belongs used to end in a raw traceback, after the schema had been written into whatever
was there. These checks only read: they never create, migrate or repair anything, so a
refused file is left exactly as it was. Each error names the path and what to do.

``inspect_database`` also counts what the database holds, so the bot can tell a new (or
lost) database from one with history before it writes its first row.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tradebot.domain.errors import StateError
from tradebot.state.tables import Base
from tradebot.state.url import database_url

_SQLITE_HEADER = b"SQLite format 3\x00"
_HEADER_BYTES = 100
# Tables a bot database may hold: the state schema, Alembic's version table, and the candle
# store's tables (``--record-trades`` records public trades into the bot's own file).
_KNOWN_TABLES = frozenset(Base.metadata.tables) | {"alembic_version", "candles", "ticks"}
_COUNTED = ("orders", "fills")


@dataclass(frozen=True, slots=True)
class Inspection:
    """What a database holds, seen without writing to it."""

    location: str
    """The SQLite file's path, or the URL with its password masked."""
    orders: int = 0
    fills: int = 0

    @property
    def is_empty(self) -> bool:
        """No order and no fill saved: a new database, or one whose history was lost."""
        return self.orders == 0 and self.fills == 0


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def check_location(url_or_path: str | Path | URL) -> None:
    """Refuse a SQLite path that cannot hold the bot's database, touching nothing.

    Missing folders are fine (they are created); a folder, a file where a folder belongs, a
    folder or file this user cannot write, and a file that is not a tradebot database are not.

    Raises:
        StateError: the path cannot be used; the message names it and says what to do.
    """
    path = sqlite_file(database_url(url_or_path))
    if path is None:
        return
    if path.is_dir():
        raise StateError(
            f"the database path {path} is a folder: database.path (or --db) must name a "
            f"file, e.g. {path / 'tradebot.db'}"
        )
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise StateError(
            f"cannot create the database {path}: {folder} is a file, not a folder. "
            "Choose a database.path (or --db) whose folders are folders"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateError(_read_only(path, folder))
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise StateError(
                f"the database {path} is read-only for this user: make it writable "
                "(chmod u+rw) or run tradebot as the user that owns it"
            )
        _check_sqlite_file(path, integrity=False)


def inspect_database(url_or_path: str | Path | URL) -> Inspection:
    """Check a database (a full integrity check for SQLite) and count what it holds.

    An absent or zero-byte SQLite file, or a database without the schema, is empty.

    Raises:
        StateError: the path cannot be used, the file is damaged or another program's, or
            the server cannot be reached.
    """
    url = database_url(url_or_path)
    path = sqlite_file(url)
    if path is None:
        if url.get_backend_name() == "sqlite":
            return Inspection(":memory:")
        return _inspect_server(url)
    check_location(url)
    if not path.exists() or path.stat().st_size == 0:
        return Inspection(str(path))
    return _check_sqlite_file(path, integrity=True)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        if folder.is_symlink():  # a dangling link: the folder it names is missing
            break
        folder = folder.parent
    return folder


def _check_sqlite_file(path: Path, *, integrity: bool) -> Inspection:
    if path.stat().st_size == 0:
        return Inspection(str(path))
    with path.open("rb") as file:
        header = file.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES or not header.startswith(_SQLITE_HEADER):
        raise StateError(_damaged(path, "it is not a SQLite database"))
    try:
        # mode=ro: nothing is written, not even a hot journal rolled back; a file URI needs
        # an absolute path (the default database.path, data/tradebot.db, is relative)
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            return _read_sqlite(connection, path, integrity=integrity)
        finally:
            connection.close()
    except sqlite3.DatabaseError as e:
        raise StateError(_damaged(path, f"SQLite cannot read it ({e})")) from e


def _read_sqlite(connection: sqlite3.Connection, path: Path, *, integrity: bool) -> Inspection:
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    tables = {str(row[0]) for row in connection.execute(query)}
    foreign = sorted(tables - _KNOWN_TABLES)
    if foreign and "alembic_version" not in tables:
        raise StateError(
            f"{path} is a SQLite database of another program (tables: {', '.join(foreign[:5])})"
            ": tradebot writes nothing into it. Point database.path (or --db) at the bot's "
            "own database file, or at a new one"
        )
    if integrity:
        verdict = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
        if verdict != ["ok"]:
            raise StateError(_damaged(path, f"its integrity check failed ({verdict[0]})"))
    counts = {
        name: int(connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # noqa: S608 (fixed names)
        for name in _COUNTED
        if name in tables
    }
    return Inspection(str(path), counts.get("orders", 0), counts.get("fills", 0))


def _read_only(path: Path, folder: Path) -> str:
    return (
        f"cannot write the database {path}: the folder {folder} is read-only for this user, "
        "and SQLite writes the database and its -wal/-shm files there. Make the folder "
        "writable or choose another database.path (or --db)"
    )


def _damaged(path: Path, why: str) -> str:
    return (
        f"the database {path} cannot be used: {why}. tradebot leaves it untouched. Restore "
        "it from a backup; or move it aside and run `tradebot state rebuild` to rebuild the "
        "bot's state from the exchange into a new file"
    )


def _inspect_server(url: URL) -> Inspection:
    masked = url.render_as_string(hide_password=True)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            counts = {
                name: int(connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())  # noqa: S608 (fixed names)
                for name in _COUNTED
                if name in tables
            }
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise StateError(f"cannot read the database at {masked}: {reason}") from e
    finally:
        engine.dispose()
    return Inspection(masked, counts.get("orders", 0), counts.get("fills", 0))
