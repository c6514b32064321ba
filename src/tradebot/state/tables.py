"""SQLAlchemy 2 declarative models: the database's shape, private to ``tradebot.state``.

Rows never leave this package (STYLE anti-pattern 8): ``repository.py`` converts them to and
from the domain's values. The Alembic migrations under ``migrations/versions`` create exactly
these tables; a test compares the two.

Money is exact: ``Money`` stores a ``Decimal`` as PostgreSQL ``NUMERIC`` without a fixed scale
(so no digit is rounded away) and, since SQLite has no decimal type, as its canonical string
there. A float handed to a money column is refused rather than silently rounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

# Constraint names are fixed so a migration written today still matches tomorrow's models.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Money(TypeDecorator[Decimal]):
    """An exact ``Decimal``: NUMERIC on PostgreSQL, the decimal's text on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            # A float here means exactness was already lost upstream; say where to fix it.
            raise TypeError(
                f"money columns take Decimal, got {type(value).__name__} {value!r}: "
                "convert with Decimal(str(x)) where the amount is produced"
            )
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class Base(DeclarativeBase):
    """Declarative base with the fixed naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OrderRow(Base):
    """An order from the moment its intent is written (before it is sent)."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_symbol_status", "symbol", "status"),)

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    exchange_order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    venue: Mapped[str] = mapped_column(String(32), default="binance", server_default="binance")
    """The exchange account (venue id) it belongs to (revision 0007)."""
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(24))
    time_in_force: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal | None] = mapped_column(Money())
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(24), index=True)
    filled_qty: Mapped[Decimal] = mapped_column(Money())
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(Text)
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The venue's words when it refused or expired the order (revision 0004)."""
    decision_id: Mapped[str | None] = mapped_column(String(64))
    created_ts_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ts_ms: Mapped[int] = mapped_column(BigInteger)
    intent_written_ts_ms: Mapped[int] = mapped_column(BigInteger)


class FillRow(Base):
    """One execution. ``fill_key`` is the exchange trade id, or a stand-in when it has none."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("client_order_id", "fill_key"),
        Index("ix_fills_symbol_ts_ms", "symbol", "ts_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("orders.client_order_id"), index=True
    )
    trade_id: Mapped[str] = mapped_column(String(64))
    fill_key: Mapped[str] = mapped_column(String(160))
    symbol: Mapped[str] = mapped_column(String(32))
    venue: Mapped[str] = mapped_column(String(32), default="binance", server_default="binance")
    """The exchange account (venue id) it belongs to (revision 0007)."""
    side: Mapped[str] = mapped_column(String(8))
    qty: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    fee: Mapped[Decimal] = mapped_column(Money())
    fee_asset: Mapped[str] = mapped_column(String(16))
    is_maker: Mapped[bool] = mapped_column(Boolean)
    ts_ms: Mapped[int] = mapped_column(BigInteger)


class PositionRow(Base):
    """The current position in one symbol, with its protective prices."""

    __tablename__ = "positions"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    venue: Mapped[str] = mapped_column(String(32), default="binance", server_default="binance")
    """The exchange account (venue id) it belongs to (revision 0007)."""
    base: Mapped[str] = mapped_column(String(16))
    quote: Mapped[str] = mapped_column(String(16))
    qty: Mapped[Decimal] = mapped_column(Money())
    cost: Mapped[Decimal] = mapped_column(Money())
    realised_pnl: Mapped[Decimal] = mapped_column(Money())
    fees: Mapped[Decimal] = mapped_column(Money())
    opened_ts_ms: Mapped[int] = mapped_column(BigInteger)
    trip_bought_qty: Mapped[Decimal] = mapped_column(Money())
    trip_bought_notional: Mapped[Decimal] = mapped_column(Money())
    trip_sold_qty: Mapped[Decimal] = mapped_column(Money())
    trip_sold_notional: Mapped[Decimal] = mapped_column(Money())
    trip_fees: Mapped[Decimal] = mapped_column(Money())
    trip_pnl: Mapped[Decimal] = mapped_column(Money())
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    take_profit_price: Mapped[Decimal | None] = mapped_column(Money())
    updated_ts_ms: Mapped[int] = mapped_column(BigInteger)


class TradeRow(Base):
    """A closed round trip."""

    __tablename__ = "trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    entry_ts_ms: Mapped[int] = mapped_column(BigInteger)
    exit_ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    qty: Mapped[Decimal] = mapped_column(Money())
    entry_price: Mapped[Decimal] = mapped_column(Money())
    exit_price: Mapped[Decimal] = mapped_column(Money())
    fees: Mapped[Decimal] = mapped_column(Money())
    pnl: Mapped[Decimal] = mapped_column(Money())
    exit_reason: Mapped[str] = mapped_column(Text)


class SnapshotRow(Base):
    """Cash, equity and holdings at one moment (for the equity curve and restarts)."""

    __tablename__ = "portfolio_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    cash: Mapped[Decimal] = mapped_column(Money())
    equity: Mapped[Decimal] = mapped_column(Money())
    exposure: Mapped[Decimal] = mapped_column(Money())
    positions: Mapped[dict[str, str]] = mapped_column(JSON)


class DecisionRow(Base):
    """One cycle's audit record. Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    venue: Mapped[str] = mapped_column(String(32), default="binance", server_default="binance")
    """The exchange account (venue id) it belongs to (revision 0007)."""
    signal_action: Mapped[str] = mapped_column(String(8))
    signal_confidence: Mapped[float] = mapped_column(Float)
    signal_reason: Mapped[str] = mapped_column(Text)
    signal_metadata: Mapped[dict[str, Any]] = mapped_column(JSON)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSON)
    risk_checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    client_order_ids: Mapped[list[str]] = mapped_column(JSON)
    equity: Mapped[Decimal] = mapped_column(Money())
    cash: Mapped[Decimal] = mapped_column(Money())
    position_qty: Mapped[Decimal] = mapped_column(Money())
    recorded_ts_ms: Mapped[int] = mapped_column(BigInteger)


class ReconciliationRow(Base):
    """A difference found between saved state and the exchange, and what was done."""

    __tablename__ = "reconciliation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(160))
    local_value: Mapped[str] = mapped_column(Text)
    exchange_value: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)


class ControlRow(Base):
    """A key/value of the bot's control state (kill switch, last bar processed...)."""

    __tablename__ = "control_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_ts_ms: Mapped[int] = mapped_column(BigInteger)


class AlertRow(Base):
    """An alert as raised, before and regardless of delivery (``state/outbox.py``).

    ``repeats`` counts the same alert (same ``dedup_key``) raised again within its
    cool-down: folded into this row instead of sent again.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    dedup_key: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    repeats: Mapped[int] = mapped_column(Integer)
    last_repeat_ts_ms: Mapped[int | None] = mapped_column(BigInteger)


class OutboxRow(Base):
    """One alert's delivery on one channel: written with the alert, updated as it is sent.

    ``parts_sent`` counts the pieces of a long message already accepted by the channel, so a
    sender that dies between two pieces goes on with the next one after a restart.
    """

    __tablename__ = "alert_outbox"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_alert_outbox_channel_status_next", "channel", "status", "next_attempt_ts_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    silent: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer)
    parts_sent: Mapped[int] = mapped_column(Integer)
    next_attempt_ts_ms: Mapped[int] = mapped_column(BigInteger)
    last_error: Mapped[str] = mapped_column(Text)
    sent_ts_ms: Mapped[int | None] = mapped_column(BigInteger)


class ControlActionRow(Base):
    """One use of an operator control (stop entries, stop, flatten, resume): the audit trail.

    Written in the same transaction as the control state it changes, by every front end
    (``tradebot stop``/``resume``, the dashboard, chat commands), so no change of the kill
    switch by a person goes unrecorded.
    """

    __tablename__ = "control_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    client: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    kill_switch_before: Mapped[str] = mapped_column(String(16))
    kill_switch_after: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)


class LockRow(Base):
    """A protection's lock on new entries (``domain/locks.py``); ``symbol`` ``*``: all.

    Never deleted: ``tradebot locks unlock`` stamps ``removed_ts_ms`` and ``removed_by``
    (and writes a ``control_actions`` row), so a lock a person lifted stays on record.
    """

    __tablename__ = "locks"
    __table_args__ = (UniqueConstraint("symbol", "protection", "ts_ms", "until_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32))
    until_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    protection: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    written_ts_ms: Mapped[int] = mapped_column(BigInteger)
    removed_ts_ms: Mapped[int | None] = mapped_column(BigInteger)
    removed_by: Mapped[str | None] = mapped_column(String(64))


class ModelRow(Base):
    """A trained model in the registry (``state/model_registry.py``).

    ``artefact`` is the file name in the ``models`` folder beside the database and
    ``artefact_sha256`` its checksum when written; ``status`` is ``candidate`` or
    ``promoted`` (at most one promoted model per ``name``, kept so by the registry).
    """

    __tablename__ = "ml_models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    model_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    label: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_source: Mapped[str] = mapped_column(Text)
    data_start_ms: Mapped[int] = mapped_column(BigInteger)
    data_end_ms: Mapped[int] = mapped_column(BigInteger)
    data_sha256: Mapped[str] = mapped_column(String(64))
    trained_until_ms: Mapped[int] = mapped_column(BigInteger)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    artefact: Mapped[str] = mapped_column(Text)
    artefact_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_ts_ms: Mapped[int] = mapped_column(BigInteger)
    promoted_ts_ms: Mapped[int | None] = mapped_column(BigInteger)
