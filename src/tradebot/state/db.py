"""The database: engine and sessions for SQLite (default, WAL) or PostgreSQL, and migrations.

A plain path means a SQLite file; anything with ``://`` is a SQLAlchemy URL
(``postgresql+psycopg://user:pass@host/db``; ``postgresql://`` is taken to mean psycopg 3).

SQLite runs in WAL mode so readers (the dashboard, ``tradebot`` commands) never block the bot,
with ``synchronous=FULL`` so a committed order intent survives a power cut, and every write
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
failing half-way with "database is locked".

The URL's password is never logged or shown: ``Database.url`` is the masked form.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tradebot.state.inspection import check_location
from tradebot.state.url import database_url

_log = logging.getLogger(__name__)

_MIGRATIONS = str(Path(__file__).with_name("migrations"))
CONTROL_CHANGES = "tradebot_control_changes"
"""Where a write session's ``info`` holds its database's ``ControlChanges``."""
_READ_ONLY = "tradebot_read_only"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" hook below (pysqlite would otherwise
    # open deferred transactions lazily, which breaks BEGIN IMMEDIATE).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    # On the driver's connection: through ``exec_driver_sql`` it cost SQLAlchemy's statement
    # execution (about 15 us) at every transaction, three of them before a bar's order.
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a connection checked out is never detached
        raise RuntimeError("SQLite transaction begun on a detached connection")
    driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


class ControlChanges:
    """This process's writes to what a live cycle reads before deciding (the kill switch,
    the control values it asks for, the locks), counted for ``Repository.controls``: a
    connection does not see its own commits in SQLite's ``data_version``."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        """The control keys the cycle reads (others, such as the bar decided, count not)."""
        self.count = 0

    def wrote(self, key: str | None) -> None:
        """A control ``key`` was written (None: a lock was saved or lifted)."""
        if key is None or key in self.keys:
            self.count += 1


class Database:
    """An engine plus session factories; one per process and database."""

    def __init__(self, url_or_path: str | Path | URL) -> None:
        """Connect lazily to ``url_or_path`` (no I/O until the first session).

        Raises:
            ConfigError: the URL is malformed or not a supported database.
        """
        self._url = database_url(url_or_path)
        self.engine = _make_engine(self._url)
        self.control_changes = ControlChanges()
        info = {CONTROL_CHANGES: self.control_changes}
        self._writer = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._reader_engine = self.engine.execution_options(**{_READ_ONLY: True})
        self._reader = sessionmaker(self._reader_engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The URL with its password masked, safe to log."""
        return self._url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back if it raises."""
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """The write transaction of ``session`` on a plain connection (``BEGIN IMMEDIATE``
        on SQLite): commits when the block ends, rolls back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read transaction that never takes the SQLite write lock."""
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """The read transaction of ``read_session`` on a plain connection, without the ORM's
        session: for Core reads on the live cycle's path to an order (it costs about a
        fifth of a millisecond less)."""
        with self._reader_engine.begin() as connection:
            yield connection

    def data_version(self) -> tuple[object, int] | None:
        """SQLite's ``data_version`` with the connection it was read on: it moves when
        another connection commits (another process, or this one's other connections),
        not for the connection's own commits, and is compared only on one connection.
        A pooled connection is taken as a write would take it (about 15 us). None for
        PostgreSQL, which has no such count."""
        if self.dialect != "sqlite":
            return None
        pooled = self.engine.raw_connection()
        try:
            connection = pooled.dbapi_connection
            (version,) = pooled.cursor().execute("PRAGMA data_version").fetchone()
        finally:
            pooled.close()
        return connection, int(version)

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration (a no-op when already there)."""
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        _log.info("database %s is at the newest schema", self.url)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code (no alembic.ini) over the packaged migrations.

    The connection travels in ``attributes`` rather than as a URL in the config, so no
    password is ever written into an ini-style string or logged by Alembic.
    """
    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def migrate(url_or_path: str | Path | URL) -> None:
    """Upgrade the database at ``url_or_path`` to the newest schema.

    Raises:
        StateError: a SQLite path tradebot must not write to (see ``check_location``).
    """
    check_location(url_or_path)
    database = Database(url_or_path)
    try:
        database.migrate()
    finally:
        database.close()


def create_database(url_or_path: str | Path | URL) -> Database:
    """Open the database at ``url_or_path``, creating and migrating it as needed.

    A path that is a folder, a read-only folder or file, a damaged file or another
    program's database is refused before anything is written to it.

    Raises:
        StateError: the path cannot hold the bot's database; the message says what to do.
    """
    check_location(url_or_path)
    database = Database(url_or_path)
    database.migrate()
    return database
