"""Where optimisation studies are kept when they go to the project's database.

Optuna's RDB storage manages its tables with Alembic under the default ``alembic_version``
table, the same table tradebot's migrations use: in one database each would read the other's
revision and refuse to start (Optuna raises "no longer compatible with the table schema",
tradebot's migrations "Can't locate revision"). So studies live beside the project's data,
never among it: a SQLite database gets a sibling file (``data/tradebot.db`` ->
``data/tradebot-studies.db``), a PostgreSQL database a schema of its own (``optuna``) in
the same database, reached through the connection's ``search_path``.
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, create_engine, text

from tradebot.state.url import database_url

STUDIES_SCHEMA = "optuna"


@dataclass(frozen=True, slots=True)
class StudiesDatabase:
    """A SQLAlchemy URL and engine options for Optuna's storage; ``shown`` hides secrets."""

    url: str = field(repr=False)
    engine_kwargs: dict[str, object]
    shown: str


def _connect_sqlite(path: str) -> sqlite3.Connection:
    # Optuna commits every parameter and attribute on its own: with SQLite's default
    # rollback journal each commit waits for the disk (~13 ms here, more than a 1h trial's
    # backtest). WAL with synchronous=NORMAL survives a crash of the process; a power cut
    # may lose the last trials, which a resumed study runs again.
    connection = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def studies_database(url_or_path: str | Path | URL) -> StudiesDatabase:
    """Where the studies of the project database ``url_or_path`` go (made ready to use).

    Raises:
        ConfigError: the URL cannot be parsed or names an unsupported database.
    """
    url = database_url(url_or_path)
    if url.get_backend_name() == "sqlite":
        main = Path(url.database or "tradebot.db")
        sibling = main.with_name(f"{main.stem}-studies{main.suffix or '.db'}")
        sibling.parent.mkdir(parents=True, exist_ok=True)
        creator = functools.partial(_connect_sqlite, str(sibling))
        return StudiesDatabase(f"sqlite:///{sibling}", {"creator": creator}, str(sibling))
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{STUDIES_SCHEMA}"'))
    finally:
        engine.dispose()
    options: dict[str, object] = {"connect_args": {"options": f"-csearch_path={STUDIES_SCHEMA}"}}
    shown = f"{url.render_as_string(hide_password=True)} (schema {STUDIES_SCHEMA})"
    return StudiesDatabase(url.render_as_string(hide_password=False), options, shown)
