"""The StateManager's storage: domain values in, domain values out, SQL hidden.

Every method takes and returns the domain's types (Order, Fill, Position, Trade, Decision);
ORM rows never leave ``tradebot.state``. Each write method is its own transaction; writes
that belong together go through ``transaction()``::

    with repository.transaction() as tx:
        if tx.record_fill(fill):
            tx.update_order(order)
            tx.save_position(position, stop_price, take_profit_price)

The order intent is written with ``record_order_intent`` *before* the order is sent; it is
idempotent on the client order id, so a restarted bot that replays a decision sends nothing
twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from tradebot.domain.decisions import Decision
from tradebot.domain.errors import StateError
from tradebot.domain.orders import Fill, Order, OrderStatus
from tradebot.domain.portfolio import Position, Trade
from tradebot.state import rows
from tradebot.state.control import (
    KILL_SWITCH,
    KILL_SWITCH_REASON,
    KillSwitchLevel,
    day_start_equity_key,
    last_bar_key,
)
from tradebot.state.db import Database
from tradebot.state.decision_log import DecisionLog, LoggedDecision
from tradebot.state.reconcile import Discrepancy
from tradebot.state.rows import (
    Activity,
    ControlRecord,
    PortfolioSnapshot,
    ReconciliationEvent,
    SavedLock,
    SavedPosition,
)
from tradebot.state.tables import (
    AlertRow,
    ControlActionRow,
    ControlRow,
    DecisionRow,
    FillRow,
    LockRow,
    OrderRow,
    PositionRow,
    ReconciliationRow,
    SnapshotRow,
    TradeRow,
)
from tradebot.state.transaction import StateTransaction

_OPEN_STATUSES = [s.value for s in OrderStatus if not s.is_terminal]


@dataclass(frozen=True, slots=True)
class CycleControls:
    """What a live cycle reads before deciding (``Repository.controls``)."""

    kill_switch: KillSwitchLevel
    values: dict[str, str]
    """The control values asked for that are set."""
    locks: list[SavedLock]
    """The locks in force, oldest first."""


@dataclass(frozen=True, slots=True)
class _ControlsRead:
    """A ``controls`` read, kept while nothing it read can have changed."""

    version: tuple[object, int]
    """SQLite's ``data_version`` and its connection, read before the controls."""
    changes: int
    """The database's ``ControlChanges.count`` then: this process's own writes."""
    keys: tuple[str, ...]
    after_ms: int
    controls: CycleControls

    def answers(
        self, version: tuple[object, int] | None, changes: int, keys: tuple[str, ...], after_ms: int
    ) -> bool:
        """Whether this read still answers a read of ``keys`` and the locks in force after
        ``after_ms`` (those in force after a later time are among those read)."""
        return (
            version is not None
            and version[0] is self.version[0]
            and version[1] == self.version[1]
            and (changes, keys) == (self.changes, self.keys)
            and after_ms >= self.after_ms
        )

    def at(self, after_ms: int) -> CycleControls:
        """The controls, with the locks in force after ``after_ms``."""
        kept = self.controls
        locks = [s for s in kept.locks if s.lock.until_ms > after_ms]
        return CycleControls(kept.kill_switch, dict(kept.values), locks)


def _kill_switch_level(value: str | None) -> KillSwitchLevel:
    if value is None:
        return KillSwitchLevel.ACTIVE
    try:
        return KillSwitchLevel(value)
    except ValueError:
        levels = ", ".join(KillSwitchLevel)
        raise StateError(
            f"control_state {KILL_SWITCH}={value!r} is not one of {levels}; "
            "set it with `tradebot stop` or fix the row"
        ) from None


def _locks_query(after_ms: int | None, lifted: bool = False) -> Select[LockRow]:
    query = select(LockRow).order_by(LockRow.id)
    if after_ms is not None:
        query = query.where(LockRow.until_ms > after_ms)
    if not lifted:
        query = query.where(LockRow.removed_ts_ms.is_(None))
    return query


# Built once: the statements a live cycle reads before it decides (see ``_prebuilt`` in
# transaction.py for what building them per call cost).
_CONTROLS = select(ControlRow.key, ControlRow.value).where(
    ControlRow.key.in_(bindparam("keys", expanding=True))
)
_LOCKS_IN_FORCE = (
    select(*LockRow.__table__.columns)
    .where(LockRow.until_ms > bindparam("after_ms"), LockRow.removed_ts_ms.is_(None))
    .order_by(LockRow.id)
)


def wall_clock_ms() -> int:
    """Milliseconds since the epoch, UTC: when a row was written (not market time)."""
    return time.time_ns() // 1_000_000


def _fills_by_order(session: Session, order_ids: Sequence[str]) -> dict[str, list[Fill]]:
    found: dict[str, list[Fill]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    query = (
        select(FillRow)
        .where(FillRow.client_order_id.in_(order_ids))
        .order_by(FillRow.ts_ms, FillRow.id)
    )
    for row in session.scalars(query):
        found[row.client_order_id].append(rows.fill_from_row(row))
    return found


def _load_orders(session: Session, query: Select[OrderRow]) -> list[Order]:
    order_rows = list(session.scalars(query.order_by(OrderRow.created_ts_ms)))
    fills = _fills_by_order(session, [r.client_order_id for r in order_rows])
    return [rows.order_from_row(r, fills[r.client_order_id]) for r in order_rows]


class Repository:
    """Load and save the bot's state in a ``Database``."""

    def __init__(
        self,
        database: Database,
        now_ms: Callable[[], int] = wall_clock_ms,
        venues: Mapping[str, str] | None = None,
    ) -> None:
        """Use ``database``; ``now_ms`` stamps when rows are written (inject for replays);
        ``venues`` maps each symbol to its venue id, written with its orders, fills,
        position and decisions (unmapped: ``DEFAULT_VENUE``, the one venue of a config
        without ``exchange.venues``)."""
        self._db = database
        self._now_ms = now_ms
        self.venues: Mapping[str, str] = dict(venues or {})
        self._controls_read: _ControlsRead | None = None

    @property
    def location(self) -> str:
        """Where the state lives: the SQLite file or the URL with its password masked."""
        return self._db.url

    @contextmanager
    def transaction(self) -> Iterator[StateTransaction]:
        """Group writes into one transaction: all are saved, or none if the block raises."""
        with self._db.write_connection() as connection:
            tx = StateTransaction(connection, self._now_ms(), self.venues, self._db.control_changes)
            try:
                yield tx
                tx.finish()
            finally:
                tx.close()

    # -- orders and fills -------------------------------------------------------------------

    def record_order_intent(self, order: Order, decision_id: str | None = None) -> bool:
        """Save an order before sending it; False when this client id was saved before."""
        with self.transaction() as tx:
            return tx.record_order_intent(order, decision_id)

    def update_order(self, order: Order) -> None:
        """Save an order's progress (see ``StateTransaction.update_order``)."""
        with self.transaction() as tx:
            tx.update_order(order)

    def record_fill(self, fill: Fill) -> bool:
        """Save a fill; False when already saved."""
        with self.transaction() as tx:
            return tx.record_fill(fill)

    def record_execution(
        self,
        fill: Fill,
        order: Order,
        saved: SavedPosition,
        trade: Trade | None = None,
    ) -> bool:
        """Save a fill with the order, position and closed trade it produced, atomically.

        Returns False (and writes nothing) when the fill was already saved.
        """
        with self.transaction() as tx:
            if not tx.record_fill(fill):
                return False
            tx.update_order(order)
            tx.save_position(saved.position, saved.stop_price, saved.take_profit_price)
            if trade is not None:
                tx.record_trade(trade)
            return True

    def get_order(self, client_order_id: str) -> Order | None:
        """The saved order with its fills, or None."""
        query = select(OrderRow).where(OrderRow.client_order_id == client_order_id)
        with self._db.read_session() as session:
            found = _load_orders(session, query)
        return found[0] if found else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Saved orders not yet terminal (intents included), oldest first."""
        query = select(OrderRow).where(OrderRow.status.in_(_OPEN_STATUSES))
        if symbol is not None:
            query = query.where(OrderRow.symbol == symbol)
        with self._db.read_session() as session:
            return _load_orders(session, query)

    def client_order_ids(self, symbol: str) -> list[str]:
        """Every client order id ever saved for ``symbol`` (ids are never reused)."""
        with self._db.read_session() as session:
            query = select(OrderRow.client_order_id).where(OrderRow.symbol == symbol)
            return list(session.scalars(query))

    def orders(self, symbol: str | None = None, since_ms: int | None = None) -> list[Order]:
        """Saved orders created at or after ``since_ms``, oldest first."""
        query = select(OrderRow)
        if symbol is not None:
            query = query.where(OrderRow.symbol == symbol)
        if since_ms is not None:
            query = query.where(OrderRow.created_ts_ms >= since_ms)
        with self._db.read_session() as session:
            return _load_orders(session, query)

    def order_counts(self) -> dict[OrderStatus, int]:
        """How many saved orders are in each status (the metrics' orders by result)."""
        query = select(OrderRow.status, func.count()).group_by(OrderRow.status)
        with self._db.read_session() as session:
            return {OrderStatus(status): int(n) for status, n in session.execute(query)}

    def fills(self, symbol: str | None = None, since_ms: int | None = None) -> list[Fill]:
        """Saved fills at or after ``since_ms``, oldest first."""
        query = select(FillRow).order_by(FillRow.ts_ms, FillRow.id)
        if symbol is not None:
            query = query.where(FillRow.symbol == symbol)
        if since_ms is not None:
            query = query.where(FillRow.ts_ms >= since_ms)
        with self._db.read_session() as session:
            return [rows.fill_from_row(r) for r in session.scalars(query)]

    # -- positions, trades, snapshots -------------------------------------------------------

    def save_position(
        self,
        position: Position,
        stop_price: Decimal | None = None,
        take_profit_price: Decimal | None = None,
    ) -> None:
        """Save a position and its protective prices."""
        with self.transaction() as tx:
            tx.save_position(position, stop_price, take_profit_price)

    def positions(self, open_only: bool = False) -> list[SavedPosition]:
        """Saved positions by symbol (flat ones too unless ``open_only``)."""
        with self._db.read_session() as session:
            saved = [
                rows.position_from_row(r)
                for r in session.scalars(select(PositionRow).order_by(PositionRow.symbol))
            ]
        return [s for s in saved if s.position.is_open] if open_only else saved

    def record_trade(self, trade: Trade) -> int:
        """Save a closed round trip; return its id."""
        with self.transaction() as tx:
            return tx.record_trade(trade)

    def trades(self, symbol: str | None = None, since_ms: int | None = None) -> list[Trade]:
        """Closed round trips that ended at or after ``since_ms``, in order of exit."""
        query = select(TradeRow).order_by(TradeRow.exit_ts_ms, TradeRow.id)
        if symbol is not None:
            query = query.where(TradeRow.symbol == symbol)
        if since_ms is not None:
            query = query.where(TradeRow.exit_ts_ms >= since_ms)
        with self._db.read_session() as session:
            return [rows.trade_from_row(r) for r in session.scalars(query)]

    def trades_after(self, trade_id: int) -> list[tuple[int, Trade]]:
        """Closed round trips saved after ``trade_id``, with their ids, in the order saved.

        A reader that keeps the last id it saw reads each trade once (the metrics do).
        """
        query = select(TradeRow).where(TradeRow.id > trade_id).order_by(TradeRow.id)
        with self._db.read_session() as session:
            return [(r.id, rows.trade_from_row(r)) for r in session.scalars(query)]

    def trade(self, trade_id: int) -> Trade | None:
        """The closed round trip saved under ``trade_id`` (the trade log names it), or None."""
        with self._db.read_session() as session:
            row = session.get(TradeRow, trade_id)
            return None if row is None else rows.trade_from_row(row)

    def record_snapshot(self, snapshot: PortfolioSnapshot) -> None:
        """Save the portfolio as it stood at ``snapshot.ts_ms``."""
        with self.transaction() as tx:
            tx.record_snapshot(snapshot)

    def snapshots(self, since_ms: int | None = None) -> list[PortfolioSnapshot]:
        """Saved snapshots at or after ``since_ms``, oldest first."""
        query = select(SnapshotRow).order_by(SnapshotRow.ts_ms, SnapshotRow.id)
        if since_ms is not None:
            query = query.where(SnapshotRow.ts_ms >= since_ms)
        with self._db.read_session() as session:
            return [rows.snapshot_from_row(r) for r in session.scalars(query)]

    def latest_snapshot(self) -> PortfolioSnapshot | None:
        """The newest snapshot, or None before the first."""
        query = select(SnapshotRow).order_by(SnapshotRow.ts_ms.desc(), SnapshotRow.id.desc())
        with self._db.read_session() as session:
            row = session.scalars(query.limit(1)).first()
            return None if row is None else rows.snapshot_from_row(row)

    # -- decisions and reconciliation -------------------------------------------------------

    def append_decision(self, decision: Decision) -> int:
        """Append one cycle's decision to the audit log; return its sequence number."""
        with self.transaction() as tx:
            return tx.append_decision(decision)

    def decisions(self, since_ms: int | None = None, symbol: str | None = None) -> list[Decision]:
        """Logged decisions with ``ts_ms >= since_ms``, oldest first."""
        return [e.decision for e in self.decision_entries(since_ms, symbol)]

    def decision_entries(
        self, since_ms: int | None = None, symbol: str | None = None
    ) -> list[LoggedDecision]:
        """Logged decisions with their sequence numbers, oldest first."""
        with self._db.read_session() as session:
            return DecisionLog(session).entries(since_ms, symbol)

    def decisions_at(self, ts_ms: int, symbol: str | None = None) -> list[LoggedDecision]:
        """The decisions of the newest bar opening at or before ``ts_ms`` (see ``DecisionLog``)."""
        with self._db.read_session() as session:
            return DecisionLog(session).at_or_before(ts_ms, symbol)

    def decision_entry(self, decision_id: int) -> LoggedDecision | None:
        """The logged decision with this sequence number, or None."""
        with self._db.read_session() as session:
            return DecisionLog(session).entry(decision_id)

    def latest_decisions(
        self,
        limit: int,
        before_id: int | None = None,
        symbol: str | None = None,
        acted_only: bool = False,
    ) -> list[LoggedDecision]:
        """A page of logged decisions, newest first (see ``DecisionLog.latest``)."""
        with self._db.read_session() as session:
            return DecisionLog(session).latest(limit, before_id, symbol, acted_only)

    def activity(self) -> Activity:
        """The newest id or write time of each table, read in one transaction."""
        marks = (
            func.max(DecisionRow.id),
            func.max(FillRow.id),
            func.max(OrderRow.updated_ts_ms),
            func.max(TradeRow.id),
            func.max(SnapshotRow.id),
            func.max(ControlRow.updated_ts_ms),
            func.max(ReconciliationRow.id),
            func.max(ControlActionRow.id),
            func.max(AlertRow.id),
        )
        with self._db.read_session() as session:
            values = [session.scalar(select(mark)) or 0 for mark in marks]
        return Activity(*(int(v) for v in values))

    def record_reconciliation(self, discrepancy: Discrepancy, ts_ms: int) -> None:
        """Save (and log) a discrepancy found at ``ts_ms``."""
        with self.transaction() as tx:
            tx.record_reconciliation(discrepancy, ts_ms)

    def reconciliation_events(self, since_ms: int | None = None) -> list[ReconciliationEvent]:
        """Saved discrepancies, oldest first."""
        query = select(ReconciliationRow).order_by(ReconciliationRow.ts_ms, ReconciliationRow.id)
        if since_ms is not None:
            query = query.where(ReconciliationRow.ts_ms >= since_ms)
        with self._db.read_session() as session:
            return [rows.reconciliation_from_row(r) for r in session.scalars(query)]

    # -- control state ----------------------------------------------------------------------

    def get_control(self, key: str) -> str | None:
        """A control-state value, or None when never set."""
        with self._db.read_session() as session:
            row = session.get(ControlRow, key)
            return None if row is None else row.value

    def set_control(self, key: str, value: str) -> None:
        """Set a control-state value."""
        with self.transaction() as tx:
            tx.set_control(key, value)

    def controls(self, keys: Sequence[str], locks_after_ms: int) -> CycleControls:
        """The kill switch, the control values of ``keys`` that are set and the locks in
        force after ``locks_after_ms``, read in one transaction: what a live cycle reads
        before it decides (three transactions cost a millisecond more).

        On SQLite the read is made again only when something may have changed it (the
        last read is kept): another connection committed (``Database.data_version``) or
        this process wrote a control read or a lock (``ControlChanges``); about 15 us
        instead of 0.2-0.7 ms before the order.

        Raises:
            StateError: the saved kill switch is not a level.
        """
        wanted = (KILL_SWITCH, *keys)
        changes = self._db.control_changes
        changes.keys.update(wanted)
        version, count = self._db.data_version(), changes.count
        last = self._controls_read
        if last is not None and last.answers(version, count, wanted, locks_after_ms):
            return last.at(locks_after_ms)
        with self._db.read_connection() as connection:
            found = connection.execute(_CONTROLS, {"keys": list(wanted)})
            values: dict[str, str] = dict(found.all())
            in_force = connection.execute(_LOCKS_IN_FORCE, {"after_ms": locks_after_ms})
            locks = [rows.lock_from_row(r) for r in in_force]
        level = _kill_switch_level(values.pop(KILL_SWITCH, None))
        controls = CycleControls(level, values, locks)
        if version is not None:
            read = _ControlsRead(version, count, wanted, locks_after_ms, controls)
            self._controls_read = read
            return read.at(locks_after_ms)
        return controls

    def kill_switch(self) -> KillSwitchLevel:
        """The kill switch level (ACTIVE when never set).

        Raises:
            StateError: the saved value is not a level.
        """
        return _kill_switch_level(self.get_control(KILL_SWITCH))

    def kill_switch_reason(self) -> str:
        """Why the kill switch was last set ("" when never)."""
        return self.get_control(KILL_SWITCH_REASON) or ""

    def set_kill_switch(self, level: KillSwitchLevel, reason: str = "") -> None:
        """Set the kill switch and why."""
        with self.transaction() as tx:
            tx.set_kill_switch(level, reason)

    def control_actions(self, limit: int = 100) -> list[ControlRecord]:
        """The newest rows of the control audit trail, newest first."""
        query = select(ControlActionRow).order_by(ControlActionRow.id.desc()).limit(limit)
        with self._db.read_session() as session:
            return [rows.control_action_from_row(r) for r in session.scalars(query)]

    def locks(self, after_ms: int | None = None, lifted: bool = False) -> list[SavedLock]:
        """Saved locks ending after ``after_ms`` (None: any), oldest first; lifted ones too
        when ``lifted``."""
        with self._db.read_session() as session:
            return [rows.lock_from_row(r) for r in session.scalars(_locks_query(after_ms, lifted))]

    def last_bar_ts(self, symbol: str, timeframe: str) -> int | None:
        """Open time of the last bar processed for ``symbol``/``timeframe``, or None."""
        value = self.get_control(last_bar_key(symbol, timeframe))
        return None if value is None else int(value)

    def set_last_bar_ts(self, symbol: str, timeframe: str, ts_ms: int) -> None:
        """Remember the last bar processed."""
        with self.transaction() as tx:
            tx.set_last_bar_ts(symbol, timeframe, ts_ms)

    def day_start_equity(self, ts_ms: int) -> Decimal | None:
        """Equity at the start of the UTC day containing ``ts_ms``, or None if not saved."""
        value = self.get_control(day_start_equity_key(ts_ms))
        return None if value is None else Decimal(value)

    def set_day_start_equity(self, ts_ms: int, equity: Decimal) -> None:
        """Remember the equity the UTC day containing ``ts_ms`` started with."""
        with self.transaction() as tx:
            tx.set_day_start_equity(ts_ms, equity)
