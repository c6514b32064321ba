"""Control audit: every use of stop entries, stop, flatten and resume.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from tradebot.state.migrations.schema_0003 import downgrade, upgrade

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
