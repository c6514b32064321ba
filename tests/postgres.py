"""A real PostgreSQL server for the tests that run on both state backends.

The server comes from ``TRADEBOT_TEST_PG_URL`` (``.ci/run`` starts one and sets it). When the
variable is unset the PostgreSQL cases are skipped with that reason (``.ci/run`` turns such a
skip into a failure); when it is set but the server cannot be reached, they fail: a
configured backend never passes silently. The fixtures are in tests/integration/conftest.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import URL, make_url, text

from tradebot.state.db import Database, database_url
from tradebot.state.tables import Base

PG_ENV = "TRADEBOT_TEST_PG_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
"""Parametrize a fixture with these to run its tests on a SQLite file and on PostgreSQL."""


def server_url() -> URL:
    """The test server's maintenance database (skips the test when the variable is unset)."""
    value = os.environ.get(PG_ENV)
    if not value:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL cases need a server (`.ci/run` starts one)")
    return database_url(value)


def admin_execute(server: URL, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    admin = Database(server.render_as_string(hide_password=False))
    try:
        with admin.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(sql))
    finally:
        admin.close()


@contextmanager
def scratch_database(server: URL) -> Iterator[str]:
    """A new, empty database on the server (its URL), dropped afterwards."""
    name = f"tradebot_state_{uuid.uuid4().hex[:10]}"
    admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(database: Database) -> None:
    """Delete every row of the bot's tables (a migrated database reused by the next test)."""
    # TRUNCATE fires no row triggers, so the append-only decisions table can be emptied.
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.session() as session:
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
