"""Alembic: an empty database migrates to head, and the models match the migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from tradebot.state.db import Database, alembic_config, migrate
from tradebot.state.tables import Base

TABLES = {
    "alembic_version",
    "alert_outbox",
    "alerts",
    "control_actions",
    "control_state",
    "decisions",
    "fills",
    "locks",
    "orders",
    "portfolio_snapshots",
    "positions",
    "reconciliation_events",
    "trades",
}


def _diff(database: Database, metadata: MetaData) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _migrated_state(url: str) -> tuple[set[str], str | None, list[object]]:
    migrate(url)
    migrate(url)  # a second run finds nothing to do
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        tables = set(inspect(database.engine).get_table_names())
        return tables, revision, _diff(database, Base.metadata)
    finally:
        database.close()


def test_migrate_empty_sqlite_file_reaches_head_matching_the_models(tmp_path: Path) -> None:
    tables, revision, diff = _migrated_state(str(tmp_path / "fresh.db"))
    assert tables == TABLES
    assert revision == "0004"
    assert diff == []


@pytest.mark.postgres
def test_migrate_empty_postgres_database_reaches_head_matching_the_models(
    pg_empty_database: str,
) -> None:
    tables, revision, diff = _migrated_state(pg_empty_database)
    assert tables == TABLES
    assert revision == "0004"
    assert diff == []


def test_compare_with_migration_reports_a_column_the_models_add(tmp_path: Path) -> None:
    # Arrange: the models with one column the migration does not create.
    database = Database(tmp_path / "fresh.db")
    database.migrate()
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("trades", metadata, Column("extra_field", Integer), extend_existing=True)
    # Act
    diff = _diff(database, metadata)
    database.close()
    # Assert
    assert [(d[0], d[2], d[3].name) for d in diff if isinstance(d, tuple)] == [
        ("add_column", "trades", "extra_field")
    ]


def test_downgrade_to_base_removes_every_table(tmp_path: Path) -> None:
    database = Database(tmp_path / "fresh.db")
    database.migrate()
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(database.engine).get_table_names()) == {"alembic_version"}
    database.close()
