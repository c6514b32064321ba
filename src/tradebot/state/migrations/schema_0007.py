"""Revision 0007: the venue (exchange account) of each order, fill, position and decision.

A bot may trade several venues as one portfolio (``exchange.venues``); each row says which
account it belongs to. Rows written before it were of the one venue a config could name
then, ``binance``. Frozen once released, like every migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TABLES = ("orders", "fills", "positions", "decisions")


def upgrade() -> None:
    """Add ``venue`` to the orders, fills, positions and decisions (``binance`` for the
    rows already there)."""
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("venue", sa.String(length=32), nullable=False, server_default="binance"),
        )


def downgrade() -> None:
    """Drop ``venue`` again (in place: a batch copy of ``decisions`` would lose the
    triggers that keep it append-only; SQLite drops a column since 3.35)."""
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN venue")
