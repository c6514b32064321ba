"""Fixtures for the state tests: a real SQLite file and a real PostgreSQL server.

PostgreSQL comes from ``TRADEBOT_TEST_PG_URL`` (``.ci/run`` starts a server and sets it). When
the variable is unset the PostgreSQL cases are skipped with that reason; when it is set but the
server cannot be reached, they fail: a configured backend never passes silently.

Each test session gets its own fresh database on the server (dropped at the end), migrated
once; tables are emptied before each test. The fixtures ``database`` (a
migrated, empty database on each backend) and the server's are in tests/integration/conftest.py.
"""

from __future__ import annotations

import pytest

from tradebot.state.db import Database
from tradebot.state.repository import Repository

CLOCK_MS = 1_733_011_200_000  # 2024-12-01T00:00:00Z: when rows are "written" in these tests


@pytest.fixture
def repo(database: Database) -> Repository:
    """A repository over ``database`` with a fixed write clock."""
    return Repository(database, now_ms=lambda: CLOCK_MS)
