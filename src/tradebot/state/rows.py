"""Conversions between ORM rows and domain values; the only place that knows both shapes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradebot.domain.locks import Lock
from tradebot.domain.orders import (
    ClientOrderId,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradebot.domain.portfolio import Position, Trade
from tradebot.state.reconcile import Discrepancy, DiscrepancyKind, Fix, fill_key
from tradebot.state.tables import (
    ControlActionRow,
    FillRow,
    LockRow,
    OrderRow,
    PositionRow,
    ReconciliationRow,
    SnapshotRow,
    TradeRow,
)


@dataclass(frozen=True, slots=True)
class SavedPosition:
    """A position as saved, with the protective prices the bot watches or placed for it."""

    position: Position
    stop_price: Decimal | None = None
    take_profit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SavedLock:
    """A saved lock; ``removed_ts_ms`` and ``removed_by`` say who lifted it by hand."""

    id: int
    lock: Lock
    removed_ts_ms: int | None = None
    removed_by: str | None = None


@dataclass(frozen=True, slots=True)
class ReconciliationEvent:
    """A saved discrepancy and when it was found."""

    ts_ms: int
    discrepancy: Discrepancy


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """Cash, equity, exposure and the quantity held per symbol at ``ts_ms`` (all in quote)."""

    ts_ms: int
    cash: Decimal
    equity: Decimal
    exposure: Decimal
    positions: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """One row of the control audit trail (``ts_ms`` is when it was written; 0 before)."""

    ts_ms: int
    actor: str
    role: str
    channel: str
    client: str
    action: str
    outcome: str
    kill_switch_before: str
    kill_switch_after: str
    detail: str


@dataclass(frozen=True, slots=True)
class Activity:
    """Marks that move whenever the bot writes something: the newest id or time of each table.

    A reader (the dashboard's event stream) compares two of these to learn what changed
    without reading the rows themselves.
    """

    decision_id: int = 0
    fill_id: int = 0
    order_ts_ms: int = 0
    trade_id: int = 0
    snapshot_id: int = 0
    control_ts_ms: int = 0
    reconciliation_id: int = 0
    control_action_id: int = 0
    alert_id: int = 0


def order_values(order: Order, decision_id: str | None, written_ts_ms: int) -> dict[str, object]:
    """Column values of ``order``'s intent, for an INSERT that skips ids already saved."""
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "qty": order.qty,
        "price": order.price,
        "stop_price": order.stop_price,
        "reason": order.reason,
        "status_reason": order.status_reason,
        "decision_id": decision_id,
        "created_ts_ms": order.created_ts_ms,
        "intent_written_ts_ms": written_ts_ms,
        "status": order.status.value,
        "exchange_order_id": order.exchange_order_id,
        "filled_qty": order.filled_qty,
        "avg_fill_price": order.avg_fill_price,
        "updated_ts_ms": order.updated_ts_ms,
    }


def copy_order_progress(order: Order, row: OrderRow) -> None:
    """Copy what changes over an order's life (status and why, fills, exchange id) onto
    ``row``."""
    row.status = order.status.value
    row.status_reason = order.status_reason
    row.exchange_order_id = order.exchange_order_id
    row.filled_qty = order.filled_qty
    row.avg_fill_price = order.avg_fill_price
    row.updated_ts_ms = order.updated_ts_ms


def order_from_row(row: OrderRow, fills: list[Fill]) -> Order:
    """The domain order a row stands for, with its recorded fills."""
    return Order(
        client_order_id=ClientOrderId(row.client_order_id),
        symbol=row.symbol,
        side=OrderSide(row.side),
        type=OrderType(row.type),
        qty=row.qty,
        price=row.price,
        stop_price=row.stop_price,
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        exchange_order_id=row.exchange_order_id,
        filled_qty=row.filled_qty,
        avg_fill_price=row.avg_fill_price,
        created_ts_ms=row.created_ts_ms,
        updated_ts_ms=row.updated_ts_ms,
        reason=row.reason,
        status_reason=row.status_reason,
        fills=fills,
    )


def fill_values(fill: Fill) -> dict[str, object]:
    """Column values of a fill, for an INSERT that skips fills already known."""
    return {
        "client_order_id": fill.client_order_id,
        "trade_id": fill.trade_id,
        "fill_key": fill_key(fill),
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "fee": fill.fee,
        "fee_asset": fill.fee_asset,
        "is_maker": fill.is_maker,
        "ts_ms": fill.ts_ms,
    }


def fill_from_row(row: FillRow) -> Fill:
    """The domain fill a row stands for."""
    return Fill(
        client_order_id=ClientOrderId(row.client_order_id),
        symbol=row.symbol,
        side=OrderSide(row.side),
        qty=row.qty,
        price=row.price,
        fee=row.fee,
        fee_asset=row.fee_asset,
        ts_ms=row.ts_ms,
        trade_id=row.trade_id,
        is_maker=row.is_maker,
    )


_POSITION_FIELDS = (
    "base",
    "quote",
    "qty",
    "cost",
    "realised_pnl",
    "fees",
    "opened_ts_ms",
    "trip_bought_qty",
    "trip_bought_notional",
    "trip_sold_qty",
    "trip_sold_notional",
    "trip_fees",
    "trip_pnl",
)


def copy_position(saved: SavedPosition, row: PositionRow) -> None:
    """Copy every field of the position and its protective prices onto ``row``."""
    for name in _POSITION_FIELDS:
        setattr(row, name, getattr(saved.position, name))
    row.stop_price = saved.stop_price
    row.take_profit_price = saved.take_profit_price


def position_from_row(row: PositionRow) -> SavedPosition:
    """The saved position a row stands for."""
    position = Position(symbol=row.symbol, base=row.base, quote=row.quote)
    for name in _POSITION_FIELDS:
        setattr(position, name, getattr(row, name))
    return SavedPosition(position, row.stop_price, row.take_profit_price)


# A trade row holds exactly the Trade's fields (plus its id), so both ways copy them by name.
_TRADE_FIELDS = tuple(f.name for f in fields(Trade))


def trade_to_row(trade: Trade) -> TradeRow:
    """A new row for a closed round trip."""
    return TradeRow(**{name: getattr(trade, name) for name in _TRADE_FIELDS})


def trade_from_row(row: TradeRow) -> Trade:
    """The closed round trip a row stands for."""
    return Trade(**{name: getattr(row, name) for name in _TRADE_FIELDS})


def snapshot_to_row(snapshot: PortfolioSnapshot) -> SnapshotRow:
    """A new snapshot row; quantities go into JSON as exact decimal strings."""
    return SnapshotRow(
        ts_ms=snapshot.ts_ms,
        cash=snapshot.cash,
        equity=snapshot.equity,
        exposure=snapshot.exposure,
        positions={symbol: str(qty) for symbol, qty in snapshot.positions.items()},
    )


def snapshot_from_row(row: SnapshotRow) -> PortfolioSnapshot:
    """The snapshot a row stands for."""
    return PortfolioSnapshot(
        ts_ms=row.ts_ms,
        cash=row.cash,
        equity=row.equity,
        exposure=row.exposure,
        positions={symbol: Decimal(qty) for symbol, qty in row.positions.items()},
    )


def reconciliation_to_row(discrepancy: Discrepancy, ts_ms: int) -> ReconciliationRow:
    """A new row for a discrepancy found at ``ts_ms``."""
    return ReconciliationRow(
        ts_ms=ts_ms,
        kind=discrepancy.kind.value,
        subject_id=discrepancy.subject_id,
        local_value=discrepancy.local_value,
        exchange_value=discrepancy.exchange_value,
        action=discrepancy.fix.value,
        detail=discrepancy.detail,
    )


def reconciliation_from_row(row: ReconciliationRow) -> ReconciliationEvent:
    """The saved discrepancy a row stands for."""
    discrepancy = Discrepancy(
        kind=DiscrepancyKind(row.kind),
        subject_id=row.subject_id,
        local_value=row.local_value,
        exchange_value=row.exchange_value,
        fix=Fix(row.action),
        detail=row.detail,
    )
    return ReconciliationEvent(row.ts_ms, discrepancy)


def control_action_to_row(record: ControlRecord, ts_ms: int) -> ControlActionRow:
    """A new audit row for ``record``, written at ``ts_ms``."""
    values = {f.name: getattr(record, f.name) for f in fields(ControlRecord)}
    values["ts_ms"] = ts_ms
    return ControlActionRow(**values)


def control_action_from_row(row: ControlActionRow) -> ControlRecord:
    """The audit record a row stands for."""
    return ControlRecord(**{f.name: getattr(row, f.name) for f in fields(ControlRecord)})


def lock_values(lock: Lock, written_ts_ms: int) -> dict[str, object]:
    """Column values of a new lock row."""
    return {
        "symbol": lock.symbol,
        "until_ms": lock.until_ms,
        "protection": lock.protection,
        "reason": lock.reason,
        "ts_ms": lock.ts_ms,
        "written_ts_ms": written_ts_ms,
    }


def lock_from_row(row: LockRow | Row[Any]) -> SavedLock:
    """The saved lock a row stands for (an ORM row, or a Core row of the table's columns)."""
    lock = Lock(row.symbol, row.until_ms, row.protection, row.reason, row.ts_ms)
    return SavedLock(row.id, lock, row.removed_ts_ms, row.removed_by)
