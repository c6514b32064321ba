"""The account's trades as the paper/live bot reads them: page by page, and to complete an
order's answer that states a fill without listing it.

Binance lists an order's trades in the answer to placing it, but its answer to a cancel or a
look-up states only the amount filled. A fill known only that way is in the account's trade
list, and the bot must ask for it before it books the order's new status.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tradebot.domain.events import Event
from tradebot.domain.orders import Fill, Order
from tradebot.exchange.port import ExchangeConnector
from tradebot.execution.lifecycle import fill_events, report_events

ZERO = Decimal(0)


class TradeFeed:
    """Each symbol's trades, asked from the newest one of the last page on (the router skips
    fills it booked before)."""

    def __init__(self, connector: ExchangeConnector) -> None:
        self._connector = connector
        self._newest_ms: dict[str, int] = {}
        """Per symbol, the newest trade of the pages asked: where the next page starts.

        Only pages move it. A fill learnt from an order's answer may be newer than one the
        venue lists only among the trades (a stop that sold in part just before its cancel):
        moving past it would skip that fill for good."""

    def read(self, fills: Iterable[Fill]) -> None:
        """Note fills taken from a page read elsewhere (recovery's at start)."""
        for fill in fills:
            self._newest_ms[fill.symbol] = max(self._newest_ms.get(fill.symbol, 0), fill.ts_ms)

    async def new_fills(self, symbol: str) -> list[Event]:
        """The trades on ``symbol`` since the newest one asked before, as events."""
        last = self._newest_ms.get(symbol)
        fills = await self._connector.fetch_my_trades(
            symbol, since_ms=None if last is None else last - 1
        )
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
