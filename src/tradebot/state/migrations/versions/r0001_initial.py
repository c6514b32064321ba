"""Initial schema: orders, fills, positions, trades, snapshots, decisions, reconciliation, control.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from tradebot.state.migrations.schema_0001 import downgrade, upgrade

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
