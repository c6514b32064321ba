"""Alembic's entry point; it runs on load, as Alembic expects (see ``environment.py``)."""

from __future__ import annotations

from tradebot.state.migrations.environment import run_migrations

run_migrations()
