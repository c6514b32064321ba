"""Writes that commit together: one ``StateTransaction`` is one database transaction.

A fill, the order it fills, the position it changes and the trade it closes are written in
one transaction (``Repository.transaction()``), so a crash leaves all of them or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tradebot.domain.decisions import Decision
from tradebot.domain.errors import StateError
from tradebot.domain.locks import Lock
from tradebot.domain.orders import Fill, Order
from tradebot.domain.portfolio import Position, Trade
from tradebot.state import rows
from tradebot.state.control import (
    KILL_SWITCH,
    KILL_SWITCH_REASON,
    KillSwitchLevel,
    day_start_equity_key,
    last_bar_key,
)
from tradebot.state.db import CONTROL_CHANGES, ControlChanges
from tradebot.state.decision_log import append_decision
from tradebot.state.prepared import DriverStatement
from tradebot.state.reconcile import Discrepancy
from tradebot.state.tables import Base, ControlRow, FillRow, LockRow, OrderRow, PositionRow

DEFAULT_VENUE = "binance"
"""The venue id of a symbol no venue map names: the one venue of a config without
``exchange.venues`` (its ``exchange.name``), and of every row written before venues."""

_log = logging.getLogger(__name__)

# Fields of an intent that may not change once written: a second intent under the same
# client order id with other terms is a bug that would otherwise send a different order.
_INTENT_TERMS = ("symbol", "side", "type", "qty", "price", "stop_price")


def _insert(connection: Connection, entity: type[Base]) -> Any:
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    return dialect.insert(entity)


def _prebuilt(build: Callable[[Any], Any]) -> dict[str, DriverStatement]:
    """``build(dialect.insert)``'s statement for each dialect, built once.

    A statement built per call with its values in it (``insert(...).values(...)``) costs
    SQLAlchemy about half a millisecond of cache-key work before it runs; one built once
    and executed with the values as parameters costs a tenth of that, and on SQLite's own
    cursor less again (``prepared.py``). The live cycle writes its intent, decision and
    "bar decided" before the order may go out.
    """
    return {
        "sqlite": DriverStatement(build(sqlite.insert)),
        "postgresql": DriverStatement(build(postgresql.insert)),
    }


def _intent(insert: Any) -> Any:
    returning = insert(OrderRow).on_conflict_do_nothing()
    return returning.returning(OrderRow.client_order_id)


def _control(insert: Any) -> Any:
    statement = insert(ControlRow)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": excluded.value, "updated_ts_ms": excluded.updated_ts_ms},
    )


_INSERT_INTENT = _prebuilt(_intent)
_UPSERT_CONTROL = _prebuilt(_control)


class StateTransaction:
    """The write half of the repository, bound to one open transaction."""

    def __init__(
        self,
        bound: Session | Connection,
        now_ms: int,
        venues: Mapping[str, str] | None = None,
        changes: ControlChanges | None = None,
    ) -> None:
        """Write inside ``bound``'s transaction; ``now_ms`` stamps when rows were written;
        ``venues`` gives each symbol's venue id (a symbol not in it is ``DEFAULT_VENUE``'s);
        ``changes`` hears of writes to the controls (a session's database's by default).

        On a ``Connection`` the ORM's session is made at the first write that needs it
        (``finish`` flushes it): the live cycle's decision, intent and "bar decided" are
        Core statements, and a session around them cost about a tenth of a millisecond
        more before the order.
        """
        self._connection: Connection | None = None
        self._orm: Session | None = None
        if isinstance(bound, Connection):
            self._connection = bound
        else:
            self._orm = bound
            changes = changes or bound.info.get(CONTROL_CHANGES)
        self._changes = changes
        self._now_ms = now_ms
        self._venues = venues or {}

    @property
    def _session(self) -> Session:
        if self._orm is None:
            self._orm = Session(bind=self._connection, expire_on_commit=False)
        return self._orm

    def _core(self) -> Connection:
        """The transaction's connection, for Core statements."""
        return self._connection if self._connection is not None else self._session.connection()

    def finish(self) -> None:
        """Write the rows the ORM holds (its session on a connection), before the commit."""
        if self._connection is not None and self._orm is not None:
            self._orm.flush()

    def close(self) -> None:
        """Release the session made on a connection (the transaction is the connection's)."""
        if self._connection is not None and self._orm is not None:
            self._orm.close()

    def venue_of(self, symbol: str) -> str:
        """The venue (exchange account) ``symbol`` trades on: its rows carry it."""
        return self._venues.get(symbol, DEFAULT_VENUE)

    def record_order_intent(self, order: Order, decision_id: str | None = None) -> bool:
        """Save an order before it is sent; False when its client id was already saved.

        Raises:
            StateError: an intent with this client id but other terms is already saved.
        """
        values = rows.order_values(order, decision_id, self._now_ms)
        values["venue"] = self.venue_of(order.symbol)
        connection = self._core()
        if _INSERT_INTENT[connection.dialect.name].first(connection, values) is not None:
            return True
        self._check_same_terms(order)
        return False

    def _check_same_terms(self, order: Order) -> None:
        saved = self._session.get(OrderRow, order.client_order_id)
        if saved is None:  # pragma: no cover - the insert just conflicted with it
            raise StateError(f"order {order.client_order_id} vanished while being written")
        new = rows.order_values(order, None, 0)
        for name in _INTENT_TERMS:
            if getattr(saved, name) != new[name]:
                raise StateError(
                    f"order {order.client_order_id} was saved with {name}="
                    f"{getattr(saved, name)}, not {new[name]}: a client order id must "
                    "name one order; derive a new id for a different order"
                )

    def update_order(self, order: Order) -> None:
        """Save an order's progress: status, exchange id, filled amount, average price.

        Raises:
            StateError: the order's intent was never saved.
        """
        row = self._session.get(OrderRow, order.client_order_id)
        if row is None:
            raise StateError(
                f"order {order.client_order_id} has no saved intent: call "
                "record_order_intent before sending an order"
            )
        rows.copy_order_progress(order, row)

    def record_fill(self, fill: Fill) -> bool:
        """Save a fill; False when it was already saved (replays are harmless).

        Raises:
            StateError: the fill belongs to an order that was never saved.
        """
        if self._session.get(OrderRow, fill.client_order_id) is None:
            raise StateError(
                f"fill {fill.trade_id or fill.ts_ms} is for order {fill.client_order_id}, "
                "which has no saved intent; record the order first"
            )
        connection = self._core()
        values = {**rows.fill_values(fill), "venue": self.venue_of(fill.symbol)}
        statement = _insert(connection, FillRow).values(**values)
        inserted = statement.on_conflict_do_nothing().returning(FillRow.id)
        return connection.execute(inserted).first() is not None

    def save_position(
        self,
        position: Position,
        stop_price: Decimal | None = None,
        take_profit_price: Decimal | None = None,
    ) -> None:
        """Save the position in ``position.symbol`` with its protective prices."""
        row = self._session.get(PositionRow, position.symbol)
        if row is None:
            row = PositionRow(symbol=position.symbol, venue=self.venue_of(position.symbol))
            self._session.add(row)
        rows.copy_position(rows.SavedPosition(position, stop_price, take_profit_price), row)
        row.updated_ts_ms = self._now_ms

    def record_trade(self, trade: Trade) -> int:
        """Save a closed round trip; return its id."""
        row = rows.trade_to_row(trade)
        self._session.add(row)
        self._session.flush()
        return row.id

    def append_decision(self, decision: Decision) -> int:
        """Append one cycle's decision to the audit log; return its sequence number."""
        venue = self.venue_of(decision.symbol)
        return append_decision(self._core(), decision, self._now_ms, venue)

    def record_snapshot(self, snapshot: rows.PortfolioSnapshot) -> None:
        """Save the portfolio as it stood at ``snapshot.ts_ms``."""
        self._session.add(rows.snapshot_to_row(snapshot))

    def record_reconciliation(self, discrepancy: Discrepancy, ts_ms: int) -> None:
        """Save (and log) a discrepancy found at ``ts_ms`` and the fix taken."""
        _log.warning("reconciliation: %s", discrepancy)
        self._session.add(rows.reconciliation_to_row(discrepancy, ts_ms))

    def _changed(self, key: str | None) -> None:
        """Tell the database's ``ControlChanges`` of a control written (None: a lock)."""
        if self._changes is not None:
            self._changes.wrote(key)

    def set_control(self, key: str, value: str) -> None:
        """Set a control-state value, replacing any earlier one."""
        self._changed(key)
        connection = self._core()
        values = {"key": key, "value": value, "updated_ts_ms": self._now_ms}
        _UPSERT_CONTROL[connection.dialect.name].first(connection, values)

    def set_controls(self, values: Mapping[str, str]) -> None:
        """Set several control-state values (in this transaction, like ``set_control``)."""
        for key, value in values.items():
            self.set_control(key, value)

    def set_kill_switch(self, level: KillSwitchLevel, reason: str = "") -> None:
        """Set the kill switch and why; it holds across restarts until changed."""
        _log.warning("kill switch set to %s: %s", level, reason or "no reason given")
        self.set_control(KILL_SWITCH, level.value)
        self.set_control(KILL_SWITCH_REASON, reason)

    def record_control_action(self, record: rows.ControlRecord) -> None:
        """Append one row to the control audit trail, stamped with this transaction's time."""
        self._session.add(rows.control_action_to_row(record, self._now_ms))

    def record_lock(self, lock: Lock) -> None:
        """Save a protection's lock (once: the same lock saved again is ignored)."""
        self._changed(None)
        connection = self._core()
        statement = _insert(connection, LockRow).values(**rows.lock_values(lock, self._now_ms))
        connection.execute(statement.on_conflict_do_nothing())

    def remove_locks(self, symbol: str | None, removed_by: str) -> list[rows.SavedLock]:
        """Lift the locks on ``symbol`` (None: every lock, all-symbol ones included) that
        are not lifted yet; return them as they were."""
        self._changed(None)
        query = select(LockRow).where(LockRow.removed_ts_ms.is_(None))
        if symbol is not None:
            query = query.where(LockRow.symbol == symbol)
        found = list(self._session.scalars(query.order_by(LockRow.id)))
        lifted = [rows.lock_from_row(row) for row in found]
        for row in found:
            row.removed_ts_ms, row.removed_by = self._now_ms, removed_by
        return lifted

    def set_last_bar_ts(self, symbol: str, timeframe: str, ts_ms: int) -> None:
        """Remember the open time of the last bar processed for ``symbol``/``timeframe``."""
        self.set_control(last_bar_key(symbol, timeframe), str(ts_ms))

    def set_day_start_equity(self, ts_ms: int, equity: Decimal) -> None:
        """Remember the equity the UTC day containing ``ts_ms`` started with."""
        self.set_control(day_start_equity_key(ts_ms), str(equity))
