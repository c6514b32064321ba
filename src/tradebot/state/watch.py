"""What changed since a mark: the reads the AlertManager makes on every tick.

Monitoring never touches the engine: it reads what the bot persisted. Closed trades,
reconciliation events and decisions have increasing ids, so a mark is the last id seen;
orders have none, so their mark is the last update time seen plus the ids seen at that
time. ``high_marks`` gives today's marks, so a monitor that starts on an old database
reports what happens from now on, not its history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tradebot.domain.orders import Order, OrderStatus
from tradebot.domain.portfolio import Trade
from tradebot.state import rows
from tradebot.state.db import Database
from tradebot.state.decision_log import DecisionLog, LoggedDecision
from tradebot.state.repository import Repository
from tradebot.state.rows import ReconciliationEvent
from tradebot.state.tables import DecisionRow, OrderRow, ReconciliationRow, TradeRow


@dataclass(frozen=True, slots=True)
class OrderMark:
    """Orders updated after ``ts_ms``, or at ``ts_ms`` but not among ``seen``."""

    ts_ms: int = 0
    seen: frozenset[str] = frozenset()

    def encode(self) -> str:
        """The mark as control-state text."""
        return f"{self.ts_ms}|{','.join(sorted(self.seen))}"

    @classmethod
    def decode(cls, text: str) -> OrderMark:
        """Read a mark written by ``encode``."""
        ts, _, ids = text.partition("|")
        return cls(int(ts), frozenset(i for i in ids.split(",") if i))

    def after(self, orders: list[Order]) -> OrderMark:
        """The mark past ``orders`` (sorted by update time)."""
        if not orders:
            return self
        last = max(o.updated_ts_ms for o in orders)
        at_last = {o.client_order_id for o in orders if o.updated_ts_ms == last}
        return OrderMark(last, frozenset(at_last | (self.seen if last == self.ts_ms else set())))


@dataclass(frozen=True, slots=True)
class Marks:
    """How far each change feed has been read."""

    trade_id: int = 0
    reconciliation_id: int = 0
    decision_id: int = 0
    orders: OrderMark = OrderMark()


class StateWatch:
    """Reads of what was persisted after a mark."""

    def __init__(self, database: Database) -> None:
        """Read from ``database`` (read transactions only: the bot is never blocked)."""
        self._db = database
        self.repository = Repository(database)

    def high_marks(self) -> Marks:
        """Marks past everything saved so far."""
        with self._db.read_session() as session:
            last_order = session.scalar(select(func.max(OrderRow.updated_ts_ms)))
            return Marks(
                trade_id=_max_id(session, TradeRow.id),
                reconciliation_id=_max_id(session, ReconciliationRow.id),
                decision_id=_max_id(session, DecisionRow.id),
                orders=OrderMark(int(last_order or 0), frozenset()),
            )

    def trades_after(self, trade_id: int) -> list[tuple[int, Trade]]:
        """Closed trades saved after ``trade_id``, with their ids."""
        query = select(TradeRow).where(TradeRow.id > trade_id).order_by(TradeRow.id)
        with self._db.read_session() as session:
            return [(r.id, rows.trade_from_row(r)) for r in session.scalars(query)]

    def reconciliation_after(self, event_id: int) -> list[tuple[int, ReconciliationEvent]]:
        """Discrepancies saved after ``event_id``, with their ids."""
        query = (
            select(ReconciliationRow)
            .where(ReconciliationRow.id > event_id)
            .order_by(ReconciliationRow.id)
        )
        with self._db.read_session() as session:
            return [(r.id, rows.reconciliation_from_row(r)) for r in session.scalars(query)]

    def decisions_after(self, decision_id: int, limit: int = 500) -> list[LoggedDecision]:
        """Decisions logged after ``decision_id``, oldest first (at most ``limit``)."""
        with self._db.read_session() as session:
            return DecisionLog(session).entries(after_id=decision_id, limit=limit)

    def orders_after(self, mark: OrderMark, statuses: tuple[OrderStatus, ...]) -> list[Order]:
        """Orders in ``statuses`` updated after ``mark``, by update time."""
        query: Select[OrderRow] = (
            select(OrderRow)
            .where(OrderRow.updated_ts_ms >= mark.ts_ms)
            .where(OrderRow.status.in_([s.value for s in statuses]))
            .order_by(OrderRow.updated_ts_ms)
        )
        with self._db.read_session() as session:
            found = [rows.order_from_row(r, []) for r in session.scalars(query)]
        return [
            o for o in found if o.updated_ts_ms > mark.ts_ms or o.client_order_id not in mark.seen
        ]

    def decision(self, decision_id: int | None) -> LoggedDecision | None:
        """The decision with this id, or the newest one when None."""
        with self._db.read_session() as session:
            return DecisionLog(session).entry(decision_id)


def _max_id(session: Session, column: object) -> int:
    return int(session.scalar(select(func.max(column))) or 0)
