"""Revision 0005: ``orders.status_reason``, the venue's words when it refused or expired an
order (an entry the cash did not cover, a stop that would trigger at once).

Rows written before it keep an empty reason. Frozen once released, like every migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    """Add ``orders.status_reason`` (empty for the rows already there)."""
    op.add_column(
        "orders", sa.Column("status_reason", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    """Drop ``orders.status_reason``."""
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("status_reason")
