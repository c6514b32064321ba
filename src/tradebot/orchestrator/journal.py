"""StepWriter: saves what each engine step changed, one transaction a step.

The engine's ``Step`` lists the orders an event changed, the fills it booked, the trades it
closed and the decision it made. The shell saves each step whole, in one transaction, and
only then counts it as done: a fill is "seen" once it is saved, never before.

When saving fails (a disk that is full, a lock held too long), the step is kept in memory,
in order, and saved first thing at the next cycle; until then the bot opens nothing new (the
shell sets the kill switch to REDUCING). A step that booked a fill is still carried out —
its protective stop is sent — because a position without its stop is worse than a record
written late; recovery adopts an order the venue has and the database lacks.

Once a transaction commits, each step in it is handed to ``on_saved`` (the trade log's lines
by default): a fill or a trade is announced only when it is on disk, never twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import structlog

from tradebot.domain.commands import Step
from tradebot.domain.errors import StateError
from tradebot.domain.orders import OrderStatus
from tradebot.domain.portfolio import Position
from tradebot.execution.positions import Protection
from tradebot.orchestrator.trade_log import log_saved
from tradebot.state.repository import Repository
from tradebot.state.transaction import StateTransaction

log = structlog.get_logger("tradebot.journal")
PositionView = Callable[[str], tuple[Position | None, Protection | None]]
OnSaved = Callable[[Step, Sequence[int]], None]


class StepWriter:
    """Persist engine steps for one bot; keep the ones that could not be saved."""

    def __init__(
        self,
        repo: Repository,
        position_of: PositionView,
        on_saved: OnSaved = log_saved,
    ) -> None:
        self.repo = repo
        self._position_of = position_of
        self._on_saved = on_saved
        self._written: list[tuple[Step, list[int]]] = []
        self.unsaved: list[Step] = []

    @contextmanager
    def _transaction(self) -> Iterator[StateTransaction]:
        """A transaction whose steps are announced to ``on_saved`` once it commits."""
        try:
            with self.repo.transaction() as tx:
                yield tx
        except BaseException:
            self._written.clear()
            raise
        written, self._written = self._written, []
        for step, trade_ids in written:
            self._on_saved(step, trade_ids)

    def save(self, step: Step, decided: tuple[str, str, int] | None = None) -> str | None:
        """Save ``step`` in one transaction; return the decision's id.

        ``decided`` = (symbol, timeframe, bar open time) marks the bar decided in the same
        transaction. Steps kept from earlier failures are saved first.

        Raises:
            StateError: a new order reuses a client id already saved (nothing is saved).
            Exception: whatever the database raised (nothing is saved).
        """
        self.flush()
        with self._transaction() as tx:
            decision_id = self.write(tx, step)
            if decided is not None:
                tx.set_last_bar_ts(*decided)
        return decision_id

    def save_or_keep(self, step: Step) -> bool:
        """Save ``step``; on failure keep it for ``flush`` and log it as critical."""
        if step.is_empty:
            return True
        if self.unsaved:
            self.unsaved.append(step)  # keep the order of events
            return False
        try:
            with self._transaction() as tx:
                self.write(tx, step)
        except StateError:
            raise
        except Exception as exc:  # the database failed: keep the step, trade on safely
            self.unsaved.append(step)
            log.critical(
                "state not saved; new entries stop until it is",
                error=repr(exc),
                unsaved_steps=len(self.unsaved),
            )
            return False
        return True

    def flush(self) -> None:
        """Save the kept steps, oldest first, in one transaction (raises if it fails)."""
        if not self.unsaved:
            return
        with self._transaction() as tx:
            for step in self.unsaved:
                self.write(tx, step)
        self.unsaved.clear()

    def write(self, tx: StateTransaction, step: Step) -> str | None:
        """Write ``step`` inside ``tx``; return the decision's id.

        The step is announced to ``on_saved`` only when written through this writer's own
        transactions (``save``, ``save_or_keep``, ``flush``).
        """
        decision_id = None
        if step.decision is not None:
            decision_id = str(tx.append_decision(step.decision))
        for order in step.orders:
            if tx.record_order_intent(order, decision_id):
                continue
            if order.status is OrderStatus.SUBMITTING and not order.fills:
                raise StateError(
                    f"client order id {order.client_order_id} was used before; a new order "
                    "must not reuse it (the venue would take it as a second order)"
                )
            tx.update_order(order)
        new_fills = tuple(fill for fill in step.fills if tx.record_fill(fill))
        if step.fills:
            position, protection = self._position_of(step.fills[0].symbol)
            if position is not None:
                stop = protection.stop_price if protection else None
                target = protection.take_profit_price if protection else None
                tx.save_position(position, stop, target)
        trade_ids = [tx.record_trade(trade) for trade in step.trades]
        for lock in step.locks:
            tx.record_lock(lock)
        self._written.append((replace(step, fills=new_fills), trade_ids))
        return decision_id
