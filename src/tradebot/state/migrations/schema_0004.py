"""Revision 0004: the protections' locks (``locks``).

Frozen once released, like every migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    """Create ``locks``."""
    op.create_table(
        "locks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("until_ms", sa.BigInteger(), nullable=False),
        sa.Column("protection", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("written_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("removed_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_locks"),
        sa.UniqueConstraint(
            "symbol",
            "protection",
            "ts_ms",
            "until_ms",
            name="uq_locks_symbol_protection_ts_ms_until_ms",
        ),
    )
    op.create_index("ix_locks_until_ms", "locks", ["until_ms"])


def downgrade() -> None:
    """Drop ``locks``."""
    op.drop_index("ix_locks_until_ms", table_name="locks")
    op.drop_table("locks")
