"""Where the database is: a SQLite path or a SQLAlchemy URL, read once into a ``URL``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from tradebot.domain.errors import ConfigError


def database_url(url_or_path: str | Path | URL) -> URL:
    """Turn a SQLite path or a database URL into a SQLAlchemy ``URL``.

    Raises:
        ConfigError: the URL cannot be parsed or names an unsupported database.
    """
    if isinstance(url_or_path, URL):
        return url_or_path
    text = str(url_or_path)
    if "://" not in text:
        return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as e:
        raise ConfigError(
            "database.url is not a valid URL: use a file path or "
            "postgresql+psycopg://user:password@host:5432/dbname"
        ) from e
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database.url uses {url.get_backend_name()!r}: tradebot supports sqlite "
            "(a file path) and postgresql+psycopg URLs"
        )
    return url
