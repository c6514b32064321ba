"""Revision 0006: the model registry (``ml_models``), one row per trained model.

The artefact itself is a file in the ``models`` folder beside the database; the row holds
its name and sha256 so a changed file is refused on load. Frozen once released, like every
migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    """Create ``ml_models``."""
    op.create_table(
        "ml_models",
        sa.Column("model_id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("data_source", sa.Text(), nullable=False),
        sa.Column("data_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("data_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("trained_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("artefact", sa.Text(), nullable=False),
        sa.Column("artefact_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("promoted_ts_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("model_id", name="pk_ml_models"),
        sa.UniqueConstraint("name", "version", name="uq_ml_models_name_version"),
    )
    op.create_index("ix_ml_models_name", "ml_models", ["name"])


def downgrade() -> None:
    """Drop ``ml_models``."""
    op.drop_index("ix_ml_models_name", table_name="ml_models")
    op.drop_table("ml_models")
