"""What Alembic's ``env.py`` runs: migrate over the connection ``tradebot.state.db`` hands in.

There is no alembic.ini and no URL here: ``db.alembic_config`` builds the config in code and
passes an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tradebot.state.tables import Base


def run_migrations() -> None:
    """Run the pending migrations inside the caller's connection and transaction.

    Raises:
        RuntimeError: Alembic was started some other way (its command line, say).
    """
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "run migrations with tradebot.state.db.migrate(url); "
            "the alembic command line is not configured for this project"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
