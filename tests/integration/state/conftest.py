"""Fixtures for the state tests: a real SQLite file and a real PostgreSQL server.

PostgreSQL comes from ``TRADEBOT_TEST_PG_URL`` (``.ci/run`` starts a server and sets it). When
the variable is unset the PostgreSQL cases are skipped with that reason; when it is set but the
server cannot be reached, they fail: a configured backend never passes silently.

Each test session gets its own fresh database on the server (dropped at the end), migrated
once; tables are emptied before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, make_url, text

from tradebot.state.db import Database, create_database, database_url
from tradebot.state.repository import Repository
from tradebot.state.tables import Base

PG_ENV = "TRADEBOT_TEST_PG_URL"
CLOCK_MS = 1_733_011_200_000  # 2024-12-01T00:00:00Z: when rows are "written" in these tests

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _server_url() -> URL:
    value = os.environ.get(PG_ENV)
    if not value:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL cases need a server (`.ci/run` starts one)")
    return database_url(value)


def _admin_execute(server: URL, sql: str) -> None:
    admin = Database(server.render_as_string(hide_password=False))
    try:
        with admin.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(sql))
    finally:
        admin.close()


@pytest.fixture(scope="session")
def pg_server() -> URL:
    """The URL of the test server's maintenance database (skips when unset)."""
    return _server_url()


@pytest.fixture(scope="session")
def pg_empty_database(pg_server: URL) -> Iterator[str]:
    """A factory-made, empty PostgreSQL database for this session; dropped afterwards."""
    name = f"tradebot_state_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_migrated_url(pg_server: URL) -> Iterator[str]:
    """A PostgreSQL database migrated to head, shared by the tests of this session."""
    name = f"tradebot_state_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        create_database(url).close()
        yield url
    finally:
        _admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_tables(database: Database) -> None:
    # TRUNCATE fires no row triggers, so the append-only decisions table can be emptied.
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.session() as session:
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        db = create_database(tmp_path / "state.db")
    else:
        db = Database(request.getfixturevalue("pg_migrated_url"))
        _empty_tables(db)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def repo(database: Database) -> Repository:
    """A repository over ``database`` with a fixed write clock."""
    return Repository(database, now_ms=lambda: CLOCK_MS)
