"""Optimisation studies kept in the project's PostgreSQL database, in a schema of their own.

Optuna's tables and tradebot's both track their schema in ``alembic_version``; in one schema
each would refuse the other's revision. The studies' schema keeps both working.
"""

from __future__ import annotations

import optuna
import pytest
from sqlalchemy import create_engine, text

from tradebot.config import load_config, with_overrides
from tradebot.research.optimize import StudyPlan
from tradebot.research.session import OptimizeRequest, run_optimization
from tradebot.research.storage import close_storage
from tradebot.state.db import create_database
from tradebot.state.studies import STUDIES_SCHEMA, studies_database


@pytest.mark.postgres
def test_optimize_on_the_postgres_project_database_keeps_studies_in_their_schema(
    pg_migrated_url: str,
) -> None:
    config = with_overrides(
        load_config(None),
        {"backtest.end": "2024-03-01", "database.url": pg_migrated_url},
        "test",
    )

    run = run_optimization(OptimizeRequest(config, StudyPlan(name="pg", n_trials=8)))
    create_database(pg_migrated_url).close()  # the bot's migrations still see their head

    assert run.storage.endswith(f"(schema {STUDIES_SCHEMA})")
    assert "postgres:***@" in run.storage
    where = studies_database(pg_migrated_url)
    storage = optuna.storages.RDBStorage(where.url, where.engine_kwargs)
    stored = optuna.load_study(study_name="pg", storage=storage)
    trials = len(stored.trials)
    close_storage(storage)
    assert trials == 8
    engine = create_engine(pg_migrated_url)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'trials'")
        ).scalars()
        assert list(tables) == [STUDIES_SCHEMA]
    engine.dispose()
