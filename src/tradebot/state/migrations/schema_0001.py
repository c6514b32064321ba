"""Revision 0001, the initial schema: every table of the state database.

The body lives here, in an importable module, and ``versions/r0001_initial.py`` only names
the revision: Alembic loads version files under a made-up module name, which coverage and
type checkers cannot follow. Like any migration, this module is frozen once released.

The decision log is append-only in the database itself: triggers refuse UPDATE and DELETE on
``decisions`` on both SQLite and PostgreSQL, whatever code connects.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradebot.state.tables import Money

_APPEND_ONLY = "decisions are append-only: rows cannot be updated or deleted"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, Money(), nullable=nullable)


def _text(name: str, length: int | None = None, nullable: bool = False) -> sa.Column[str]:
    kind = sa.Text() if length is None else sa.String(length=length)
    return sa.Column(name, kind, nullable=nullable)


def _create_orders() -> None:
    op.create_table(
        "orders",
        _text("client_order_id", 64),
        _text("exchange_order_id", 64, nullable=True),
        _text("symbol", 32),
        _text("side", 8),
        _text("type", 24),
        _text("time_in_force", 8),
        _money("qty"),
        _money("price", nullable=True),
        _money("stop_price", nullable=True),
        _text("status", 24),
        _money("filled_qty"),
        _money("avg_fill_price", nullable=True),
        _text("reason"),
        _text("decision_id", 64, nullable=True),
        _ts("created_ts_ms"),
        _ts("updated_ts_ms"),
        _ts("intent_written_ts_ms"),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_exchange_order_id", "orders", ["exchange_order_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_symbol_status", "orders", ["symbol", "status"])


def _create_fills() -> None:
    op.create_table(
        "fills",
        _id(),
        _text("client_order_id", 64),
        _text("trade_id", 64),
        _text("fill_key", 160),
        _text("symbol", 32),
        _text("side", 8),
        _money("qty"),
        _money("price"),
        _money("fee"),
        _text("fee_asset", 16),
        sa.Column("is_maker", sa.Boolean(), nullable=False),
        _ts("ts_ms"),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["orders.client_order_id"],
            name="fk_fills_client_order_id_orders",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint(
            "client_order_id", "fill_key", name="uq_fills_client_order_id_fill_key"
        ),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_index("ix_fills_symbol_ts_ms", "fills", ["symbol", "ts_ms"])


def _create_positions() -> None:
    op.create_table(
        "positions",
        _text("symbol", 32),
        _text("base", 16),
        _text("quote", 16),
        _money("qty"),
        _money("cost"),
        _money("realised_pnl"),
        _money("fees"),
        _ts("opened_ts_ms"),
        _money("trip_bought_qty"),
        _money("trip_bought_notional"),
        _money("trip_sold_qty"),
        _money("trip_sold_notional"),
        _money("trip_fees"),
        _money("trip_pnl"),
        _money("stop_price", nullable=True),
        _money("take_profit_price", nullable=True),
        _ts("updated_ts_ms"),
        sa.PrimaryKeyConstraint("symbol", name="pk_positions"),
    )


def _create_trades_and_snapshots() -> None:
    op.create_table(
        "trades",
        _id(),
        _text("symbol", 32),
        _ts("entry_ts_ms"),
        _ts("exit_ts_ms"),
        _money("qty"),
        _money("entry_price"),
        _money("exit_price"),
        _money("fees"),
        _money("pnl"),
        _text("exit_reason"),
        sa.PrimaryKeyConstraint("id", name="pk_trades"),
    )
    op.create_index("ix_trades_exit_ts_ms", "trades", ["exit_ts_ms"])
    op.create_index("ix_trades_symbol", "trades", ["symbol"])
    op.create_table(
        "portfolio_snapshots",
        _id(),
        _ts("ts_ms"),
        _money("cash"),
        _money("equity"),
        _money("exposure"),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portfolio_snapshots"),
    )
    op.create_index("ix_portfolio_snapshots_ts_ms", "portfolio_snapshots", ["ts_ms"])


def _create_decisions() -> None:
    op.create_table(
        "decisions",
        _id(),
        _ts("ts_ms"),
        _text("symbol", 32),
        _text("signal_action", 8),
        sa.Column("signal_confidence", sa.Float(), nullable=False),
        _text("signal_reason"),
        sa.Column("signal_metadata", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("risk_checks", sa.JSON(), nullable=True),
        _text("verdict", 16, nullable=True),
        _text("action", 32),
        sa.Column("client_order_ids", sa.JSON(), nullable=False),
        _money("equity"),
        _money("cash"),
        _money("position_qty"),
        _ts("recorded_ts_ms"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )
    op.create_index("ix_decisions_symbol", "decisions", ["symbol"])
    op.create_index("ix_decisions_ts_ms", "decisions", ["ts_ms"])


def _create_reconciliation_and_control() -> None:
    op.create_table(
        "reconciliation_events",
        _id(),
        _ts("ts_ms"),
        _text("kind", 40),
        _text("subject_id", 160),
        _text("local_value"),
        _text("exchange_value"),
        _text("action", 40),
        _text("detail"),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_events"),
    )
    op.create_index("ix_reconciliation_events_ts_ms", "reconciliation_events", ["ts_ms"])
    op.create_table(
        "control_state",
        _text("key", 128),
        _text("value"),
        _ts("updated_ts_ms"),
        sa.PrimaryKeyConstraint("key", name="pk_control_state"),
    )


def _make_decisions_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER decisions_no_{event.lower()} BEFORE {event} ON decisions "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions "
        "FOR EACH ROW EXECUTE FUNCTION decisions_append_only()"
    )


def upgrade() -> None:
    """Create every table of the first schema."""
    _create_orders()
    _create_fills()
    _create_positions()
    _create_trades_and_snapshots()
    _create_decisions()
    _create_reconciliation_and_control()
    _make_decisions_append_only()


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER decisions_append_only ON decisions")
        op.execute("DROP FUNCTION decisions_append_only()")
    for table in (
        "fills",
        "orders",
        "positions",
        "trades",
        "portfolio_snapshots",
        "decisions",
        "reconciliation_events",
        "control_state",
    ):
        op.drop_table(table)
