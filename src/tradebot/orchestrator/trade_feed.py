"""The account's trades as the paper/live bot reads them: page by page, and to complete an
order's answer that states a fill without listing it.

Binance lists an order's trades in the answer to placing it, but its answer to a cancel or a
look-up states only the amount filled. A fill known only that way is in the account's trade
list, and the bot must ask for it before it books the order's new status.

Pages follow the venue's trade ids (Binance's ``fromId``), not time: every fill of one
market order carries the same millisecond, so more of them than a page holds cannot be
paged by time, and ids have no time window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from tradebot.domain.events import Event
from tradebot.domain.orders import Fill, Order, OrderStatus
from tradebot.exchange.port import ExchangeConnector
from tradebot.execution.lifecycle import fill_events, report_events

ZERO = Decimal(0)
_RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


def vouched(mine: Sequence[Order], listed: Sequence[Order]) -> bool:
    """Whether the venue's open orders (``listed``) vouch that none of the bot's working
    orders (``mine``) filled beyond what it booked: each is confirmed resting and is listed
    with the amount booked filled. An order unconfirmed, closed since or filled further
    may have fills to ask for.
    """
    filled = {order.client_order_id: order.filled_qty for order in listed}
    return all(
        order.status in _RESTING and filled.get(order.client_order_id) == order.filled_qty
        for order in mine
    )


class TradeFeed:
    """Each symbol's trades, read on from the newest one of the pages read before (the
    router skips fills it booked already)."""

    def __init__(self, connector: ExchangeConnector, page: int = 1000) -> None:
        self._connector = connector
        self._page = page
        self._newest: dict[str, Fill] = {}
        """Per symbol, the newest trade of the pages read: the next page starts after it.

        Only pages move it. A fill learnt from an order's answer may be newer than one the
        venue lists only among the trades (a stop that sold in part just before its cancel):
        moving past it would skip that fill for good."""

    async def begin(self, symbols: Iterable[str]) -> None:
        """Start each symbol not read yet (recovery's pages may have) at the newest trade the
        venue lists now: what came before is recovery's. A symbol with no trade at all is
        read from its first one."""
        for symbol in symbols:
            if symbol not in self._newest:
                self.read(await self._connector.fetch_my_trades(symbol, limit=1))

    def read(self, fills: Iterable[Fill]) -> None:
        """Note fills taken from a page read elsewhere (recovery's at start)."""
        for fill in fills:
            newest = self._newest.get(fill.symbol)
            if newest is None or _order_key(fill) > _order_key(newest):
                self._newest[fill.symbol] = fill

    async def new_fills(self, symbol: str) -> list[Event]:
        """The trades on ``symbol`` since the newest one read before, as events."""
        fills = await fills_after(self._connector, symbol, self._newest.get(symbol), self._page)
        self.read(fills)
        return fill_events(fills)

    async def reported(self, venue: Order, booked: Decimal) -> list[Event]:
        """What the venue's answer about one order says happened, its fills complete.

        ``booked`` is the amount of the order the bot has booked. When the answer states
        more filled than both that and the fills it lists, the symbol's trades are asked
        first, so the fills are booked before the status.
        """
        events = report_events(venue)
        listed = sum((f.qty for f in venue.fills), ZERO)
        if venue.filled_qty > max(booked, listed):
            events = await self.new_fills(venue.symbol) + events
        return events


async def fills_since(
    connector: ExchangeConnector, symbol: str, since_ms: int | None, page: int
) -> list[Fill]:
    """Every fill of ``symbol`` from ``since_ms`` on (the newest page without it), oldest
    first: the first page by time, the rest by trade id. A page cut short by its limit would
    leave the rest unread until a later look, and the position booked short meanwhile (or,
    at start-up, later saved fills "unknown to the exchange")."""
    found: list[Fill] = []
    while True:
        rows = await connector.fetch_my_trades(symbol, since_ms=since_ms, limit=page)
        fresh = _merged(found, rows)
        if not rows or since_ms is None or len(fresh) == len(found):
            return fresh
        found, newest = fresh, max(rows, key=_order_key)
        if newest.trade_id.isdigit():  # on by id, even after a short page: ids have no window
            return _merged(found, await fills_from(connector, symbol, _next_id(newest), page))
        if len(rows) < page:
            return found
        since_ms = newest.ts_ms  # a venue without numeric ids: on by time (that ms again)


async def fills_after(
    connector: ExchangeConnector, symbol: str, last: Fill | None, page: int
) -> list[Fill]:
    """Every fill of ``symbol`` after ``last`` (every fill when None), oldest first; by
    time from ``last``'s millisecond on at a venue whose trades carry no numeric id."""
    if last is None:
        return await fills_from(connector, symbol, 0, page)
    if last.trade_id.isdigit():
        return await fills_from(connector, symbol, _next_id(last), page)
    return await fills_since(connector, symbol, last.ts_ms, page)


async def fills_from(
    connector: ExchangeConnector, symbol: str, first_id: int, page: int
) -> list[Fill]:
    """Every fill of ``symbol`` whose venue trade id is ``first_id`` or more, oldest first,
    page by page (Binance's ``fromId``: no time window, and a market order's many fills of
    one millisecond page like any others)."""
    found: list[Fill] = []
    while True:
        rows = await connector.fetch_my_trades(symbol, limit=page, from_id=first_id)
        found = _merged(found, rows)
        ids = [int(f.trade_id) for f in rows if f.trade_id.isdigit()]
        if len(rows) < page or not ids or max(ids) < first_id:
            return found
        first_id = max(ids) + 1


def _next_id(fill: Fill) -> int:
    return int(fill.trade_id) + 1


def _order_key(fill: Fill) -> tuple[int, int]:
    """Where a fill stands in its venue's trade list: its time, then its trade id."""
    return fill.ts_ms, int(fill.trade_id) if fill.trade_id.isdigit() else 0


def _merged(first: list[Fill], then: list[Fill]) -> list[Fill]:
    seen = {(f.client_order_id, f.key) for f in first}
    merged = first + [f for f in then if (f.client_order_id, f.key) not in seen]
    return sorted(merged, key=_order_key)
