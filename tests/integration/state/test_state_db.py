"""The database layer: URLs, SQLite settings, masked passwords."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import URL, text

from tradebot.domain.errors import ConfigError
from tradebot.state import acquire_instance_lock, inspect_database
from tradebot.state.db import Database, create_database, database_url


def test_create_database_on_a_path_makes_folders_and_uses_wal(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "data" / "nested" / "trading_bot.db"
    # Act
    database = create_database(path)
    with database.read_session() as session:
        settings = [
            session.execute(text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "foreign_keys")
        ]
    database.close()
    # Assert
    assert path.exists()
    assert settings == ["wal", 2, 1]  # WAL, synchronous=FULL, foreign keys enforced


def test_database_url_reads_plain_postgres_urls_as_psycopg() -> None:
    url = database_url("postgresql://bot:secret@db.example:5432/tradebot")
    assert url.drivername == "postgresql+psycopg"
    assert url.database == "tradebot"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mysql+pymysql://bot:pw@localhost/tradebot", "tradebot supports sqlite"),
        ("postgresql+psycopg://bot:pw@localhost:notaport/x", "database.url is not a valid URL"),
    ],
)
def test_database_url_refuses_unsupported_or_malformed_urls(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Database(value)


def test_database_url_and_repr_mask_the_password() -> None:
    database = Database("postgresql+psycopg://bot:hunter2-secret@127.0.0.1:1/tradebot")
    assert database.url == "postgresql+psycopg://bot:***@127.0.0.1:1/tradebot"
    assert "hunter2" not in repr(database)
    database.close()


@pytest.mark.postgres
def test_create_database_on_postgres_never_logs_the_password(
    pg_empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    url = database_url(pg_empty_database)
    assert url.password  # the CI server is reached with a password
    # Act
    with caplog.at_level(logging.DEBUG):
        database = create_database(pg_empty_database)
        database.close()
    # Assert
    assert database.dialect == "postgresql"
    assert "is at the newest schema" in caplog.text
    assert f":{url.password}@" not in caplog.text
    assert ":***@" in caplog.text


def test_database_accepts_a_sqlalchemy_url(tmp_path: Path) -> None:
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "u.db"))
    database = create_database(url)
    assert database.dialect == "sqlite"
    assert (tmp_path / "u.db").exists()
    database.close()


def test_inspect_database_relative_sqlite_url_of_an_existing_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the default config's database (data/tradebot.db, relative), once it exists
    monkeypatch.chdir(tmp_path)
    create_database("sqlite:///data/tradebot.db").close()
    # Act
    found = inspect_database("sqlite:///data/tradebot.db")
    with acquire_instance_lock("sqlite:///data/tradebot.db"):
        pass
    # Assert
    assert found.is_empty
