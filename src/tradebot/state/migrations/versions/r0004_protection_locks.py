"""Protection locks: cooldown, stop-loss guard and drawdown locks on new entries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from tradebot.state.migrations.schema_0004 import downgrade, upgrade

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
