"""Alembic: an empty database migrates to head, and the models match the migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text

from tradebot.state import Repository
from tradebot.state.db import Database, alembic_config, create_database, migrate
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
    "ml_models",
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
    assert revision == "0007"
    assert diff == []


@pytest.mark.postgres
def test_migrate_empty_postgres_database_reaches_head_matching_the_models(
    pg_empty_database: str,
) -> None:
    tables, revision, diff = _migrated_state(pg_empty_database)
    assert tables == TABLES
    assert revision == "0007"
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


def test_upgrade_from_0004_keeps_saved_orders_with_an_empty_status_reason(tmp_path: Path) -> None:
    # Arrange: a bot database at revision 0004 holding an order
    database = Database(tmp_path / "old.db")
    with database.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")
        connection.execute(
            text(
                "INSERT INTO orders (client_order_id, symbol, side, type, time_in_force, qty, "
                "status, filled_qty, reason, created_ts_ms, updated_ts_ms, intent_written_ts_ms) "
                "VALUES ('tb-BTCUSDT-1-en', 'BTC/USDT', 'buy', 'market', 'GTC', '0.1', "
                "'rejected', '0', 'golden cross', 1, 1, 1)"
            )
        )
    database.close()
    # Act
    repo = Repository(create_database(tmp_path / "old.db"))
    # Assert
    (order,) = repo.orders()
    assert (order.client_order_id, order.reason, order.status_reason) == (
        "tb-BTCUSDT-1-en",
        "golden cross",
        "",
    )
