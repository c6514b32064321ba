"""Fixtures of the integration tests that run on both state backends (tests/postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL

from postgres import BACKENDS, empty_tables, scratch_database, server_url
from tradebot.state.db import Database, create_database


@pytest.fixture(scope="session")
def pg_server() -> URL:
    """The URL of the test server's maintenance database (skips when unset)."""
    return server_url()


@pytest.fixture(scope="session")
def pg_empty_database(pg_server: URL) -> Iterator[str]:
    """A factory-made, empty PostgreSQL database for this session; dropped afterwards."""
    with scratch_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def pg_migrated_url(pg_server: URL) -> Iterator[str]:
    """A PostgreSQL database migrated to head, shared by the tests of this session."""
    with scratch_database(pg_server) as url:
        create_database(url).close()
        yield url


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty bot database on each backend: a new SQLite file, or the session's
    PostgreSQL database with every table emptied; closed after the test."""
    if request.param == "sqlite":
        db = create_database(tmp_path / "state.db")
    else:
        db = Database(request.getfixturevalue("pg_migrated_url"))
        empty_tables(db)
    try:
        yield db
    finally:
        db.close()
