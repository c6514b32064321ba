"""The venue (exchange account) of each order, fill, position and decision.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from tradebot.state.migrations.schema_0007 import downgrade, upgrade

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
