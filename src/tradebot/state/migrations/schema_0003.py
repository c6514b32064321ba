"""Revision 0003: the audit trail of operator controls (``control_actions``).

Frozen once released, like every migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    """Create ``control_actions``."""
    op.create_table(
        "control_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("kill_switch_before", sa.String(length=16), nullable=False),
        sa.Column("kill_switch_after", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_control_actions"),
    )
    op.create_index("ix_control_actions_ts_ms", "control_actions", ["ts_ms"])


def downgrade() -> None:
    """Drop ``control_actions``."""
    op.drop_index("ix_control_actions_ts_ms", table_name="control_actions")
    op.drop_table("control_actions")
