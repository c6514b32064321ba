"""Alembic migrations of the state database; run through ``tradebot.state.db.migrate``."""
