"""Revision 0002: the alert outbox (``alerts`` and ``alert_outbox``).

An alert is written here before any channel sees it; a sender then delivers each
``alert_outbox`` row and records how far it got (``docs/monitoring.md``). Frozen once released,
like every migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    """Create ``alerts`` and ``alert_outbox``."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("last_repeat_ts_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_created_ts_ms", "alerts", ["created_ts_ms"])
    op.create_index("ix_alerts_dedup_key", "alerts", ["dedup_key"])
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("parts_sent", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_ts_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name="fk_alert_outbox_alert_id_alerts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
        sa.UniqueConstraint("alert_id", "channel", name="uq_alert_outbox_alert_id_channel"),
    )
    op.create_index(
        "ix_alert_outbox_channel_status_next",
        "alert_outbox",
        ["channel", "status", "next_attempt_ts_ms"],
    )


def downgrade() -> None:
    """Drop both tables (undelivered alerts go with them)."""
    op.drop_table("alert_outbox")
    op.drop_table("alerts")
