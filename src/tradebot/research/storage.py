"""Open the storage a study is kept in: the project's database, another URL, or a journal.

A journal file (``--storage studies.journal``) needs no database server and appends each
change as a line, which is how Optuna shares a study over a network file system.
"""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from tradebot.config import mask_url_password
from tradebot.config.sections import DatabaseConfig
from tradebot.state.studies import studies_database

JOURNAL_SUFFIXES = (".journal", ".log")


def open_storage(target: str | None, database: DatabaseConfig) -> tuple[BaseStorage, str]:
    """The storage and a description to show (no password in it).

    ``target`` None: the project's database (see ``tradebot.state.studies`` for why the
    studies sit beside its tables, not among them); a path ending in ``.journal`` or
    ``.log``: a journal file; anything else: a SQLAlchemy URL used as it is.

    Raises:
        ConfigError: the URL cannot be parsed or names an unsupported database.
    """
    if target is not None and target.endswith(JOURNAL_SUFFIXES):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path))), f"journal {path}"
    if target is not None:
        return RDBStorage(target), mask_url_password(target)
    where = studies_database(database.sqlalchemy_url)
    storage = RDBStorage(where.url, engine_kwargs=where.engine_kwargs)
    return storage, where.shown


def detached(study: optuna.Study, storage: BaseStorage) -> optuna.Study:
    """A copy of ``study`` in memory, to read (tables, report) once ``storage`` is closed."""
    copy = InMemoryStorage()
    optuna.copy_study(from_study_name=study.study_name, from_storage=storage, to_storage=copy)
    return optuna.load_study(study_name=study.study_name, storage=copy)


def close_storage(storage: BaseStorage) -> None:
    """Close a database storage's connections (a journal file holds none open)."""
    if isinstance(storage, RDBStorage):
        storage.remove_session()
        storage.engine.dispose()
