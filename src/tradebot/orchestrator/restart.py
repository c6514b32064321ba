"""What a restart hands the engine for a symbol it holds (``Restarted``).

Recovery closes an order whose intent was saved and that never reached the venue (a crash
between the two) as not sent, and never sends it again under its id. For an exit that
leaves the position the strategy decided to leave held, guarded only by its stop, until the
strategy says so again. So the exit is sent at start (the same decision, the next attempt's
id) while its bar is still among the newest ``trading.max_signal_age_bars`` closed, as the
bar itself would be decided then; an older one is not the signal any more, as for any bar.
"""

from __future__ import annotations

from collections.abc import Sequence

from tradebot.domain.events import Restarted
from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, Order
from tradebot.execution.router import OrderRole, role_of
from tradebot.state.reconcile import Fix, Reconciliation
from tradebot.state.repository import Repository

_SELLS_ALL = (OrderRole.EXIT, OrderRole.STOP_EXIT, OrderRole.FLATTEN)


def unsent_exits(reconciliation: Reconciliation, repo: Repository) -> dict[str, Order]:
    """The exits recovery closed as never sent, by symbol."""
    found: dict[str, Order] = {}
    for discrepancy in reconciliation.discrepancies:
        cid = ClientOrderId(discrepancy.subject_id)
        if discrepancy.fix is Fix.CLOSE_AS_NOT_SENT and role_of(cid) in _SELLS_ALL:
            order = repo.get_order(cid)
            if order is not None:
                found[order.symbol] = order
    return found


def restarted(
    symbol: str, closed: Sequence[Candle], bar: int, unsent: Order | None, max_age_bars: int
) -> Restarted:
    """The event for ``symbol``, whose newest closed bar is ``closed[-1]`` (bar ``bar`` of
    its prepared bars): with the unsent exit while it is fresh."""
    if unsent is None or unsent.created_ts_ms < closed[-max_age_bars:][0].ts_ms:
        return Restarted(symbol, closed[-1].ts_ms, bar)
    return Restarted(symbol, closed[-1].ts_ms, bar, unsent.client_order_id)
