"""How a venue's report of an order becomes events for the engine's one door.

The venue answers in its own terms: an order as it sees it now (status, fills so far), or a
page of the account's fills. Every shell — the backtester, the paper/live bot, recovery —
turns those answers into the same events with the functions here, and the router (the
order book of the engine) applies them by the same rules: fills booked once by trade id,
statuses only as the venue states them. Nothing here does I/O or keeps state.
"""

from __future__ import annotations

from collections.abc import Iterable

from tradebot.domain.events import Event, OrderFilled, OrderUpdated
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderStatus

_NO_STATUS_EVENT = (OrderStatus.UNKNOWN, OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)


def fill_events(fills: Iterable[Fill]) -> list[Event]:
    """Fills, oldest first, as ``OrderFilled`` events (the router skips those it booked)."""
    return [OrderFilled(f) for f in sorted(fills, key=lambda f: f.ts_ms)]


def report_events(venue: Order) -> list[Event]:
    """What the venue's view of one order says happened: its fills, then its status.

    FILLED and PARTIALLY_FILLED come as the fills themselves; an UNKNOWN answer says
    nothing. OPEN acknowledges an order sent (and carries the venue's order id).
    """
    events = fill_events(venue.fills)
    if venue.status not in _NO_STATUS_EVENT:
        events.append(
            OrderUpdated(
                venue.client_order_id,
                venue.symbol,
                venue.status,
                venue.updated_ts_ms,
                venue.reason,
                venue.exchange_order_id,
            )
        )
    return events


def not_sent(
    order_ids: Iterable[ClientOrderId], symbol: str, ts_ms: int, reason: str
) -> list[Event]:
    """Orders decided but never sent (the venue never saw them) are closed as REJECTED."""
    return [OrderUpdated(cid, symbol, OrderStatus.REJECTED, ts_ms, reason) for cid in order_ids]
