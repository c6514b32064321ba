"""The model registry: trained models, their recipe, data, scores and artefact checksum.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from tradebot.state.migrations.schema_0006 import downgrade, upgrade

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
