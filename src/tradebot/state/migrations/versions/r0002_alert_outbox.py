"""Alert outbox: alerts and their delivery per channel.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from tradebot.state.migrations.schema_0002 import downgrade, upgrade

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
