"""Several exchange accounts (venues) behind the one ``ExchangeConnector`` port.

A portfolio may trade symbols on several venues (``exchange.venues``). The shells keep
trading through one connector: ``VenueRouter`` sends each call about a symbol to the venue
that trades it (orders, fills, candles, the order book), so the one lifecycle, the one door
and the intent-before-send rule work unchanged, and each exchange stays the source of truth
for its own orders. What belongs to an account as a whole (its balances, its clock) is asked
of each venue: recovery reconciles each account on its own (``accounts_of``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.market import Candle, Market, OrderBook, Ticker
from tradebot.domain.orders import ClientOrderId, Fill, Order
from tradebot.exchange.port import Balance, ExchangeConnector


@dataclass(frozen=True, slots=True)
class VenueAccount:
    """One exchange account of a portfolio: its venue id, connector and the symbols it trades.

    ``id`` is None for the one account of a connector that is not a ``VenueRouter``.
    """

    id: str | None
    connector: ExchangeConnector
    symbols: tuple[str, ...]


class VenueRouter:
    """An ``ExchangeConnector`` over several venues, each symbol traded on one of them."""

    def __init__(self, accounts: Sequence[VenueAccount]) -> None:
        """Route to ``accounts``; a symbol listed by two of them is refused.

        Raises:
            ValueError: no account, or a symbol on two accounts.
        """
        if not accounts:
            raise ValueError("a VenueRouter needs at least one venue")
        self.accounts = tuple(accounts)
        self._of: dict[str, VenueAccount] = {}
        for account in self.accounts:
            for symbol in account.symbols:
                if symbol in self._of:
                    raise ValueError(
                        f"{symbol} is on venues {self._of[symbol].id} and {account.id}"
                    )
                self._of[symbol] = account

    def account_of(self, symbol: str) -> VenueAccount:
        """The venue trading ``symbol``.

        Raises:
            ValueError: no venue trades it.
        """
        account = self._of.get(symbol)
        if account is None:
            venues = ", ".join(str(a.id) for a in self.accounts)
            raise ValueError(f"no venue ({venues}) trades {symbol}")
        return account

    def _to(self, symbol: str) -> ExchangeConnector:
        return self.account_of(symbol).connector

    async def load_markets(self) -> dict[str, Market]:
        """Each venue's markets of the symbols it trades (a symbol a venue does not list is
        missing, and the shell names it)."""
        markets: dict[str, Market] = {}
        for account in self.accounts:
            listed = await account.connector.load_markets()
            markets.update((s, listed[s]) for s in account.symbols if s in listed)
        return markets

    async def fetch_time(self) -> int:
        """The earliest of the venues' clocks: a bar counts as closed once it has closed on
        every venue, so the symbols of one bar time are decided together."""
        return min([await a.connector.fetch_time() for a in self.accounts])

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """``symbol``'s candles from its venue."""
        return await self._to(symbol).fetch_ohlcv(symbol, timeframe, since_ms, limit)

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """``symbol``'s ticker from its venue."""
        return await self._to(symbol).fetch_ticker(symbol)

    async def fetch_order_book(self, symbol: str, limit: int = 20) -> OrderBook:
        """``symbol``'s book from its venue."""
        return await self._to(symbol).fetch_order_book(symbol, limit)

    async def fetch_balance(self) -> dict[str, Balance]:
        """Every venue's balances added up by asset (what the portfolio holds in all)."""
        total: dict[str, Balance] = {}
        for account in self.accounts:
            for asset, b in (await account.connector.fetch_balance()).items():
                held = total.get(asset, Balance(asset, Decimal(0), Decimal(0)))
                total[asset] = Balance(asset, held.free + b.free, held.locked + b.locked)
        return total

    async def create_order(self, command: PlaceOrder) -> Order:
        """Send the order to its symbol's venue."""
        return await self._to(command.symbol).create_order(command)

    async def cancel_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Cancel on ``symbol``'s venue."""
        return await self._to(symbol).cancel_order(client_order_id, symbol)

    async def replace_order(
        self, old: ClientOrderId, command: PlaceOrder
    ) -> tuple[Order | None, Order]:
        """Cancel-replace on the symbol's venue."""
        return await self._to(command.symbol).replace_order(old, command)

    async def fetch_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Look the order up on ``symbol``'s venue."""
        return await self._to(symbol).fetch_order(client_order_id, symbol)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """``symbol``'s resting orders on its venue; without a symbol, every venue's."""
        if symbol is not None:
            return await self._to(symbol).fetch_open_orders(symbol)
        return [o for a in self.accounts for o in await a.connector.fetch_open_orders()]

    async def fetch_my_trades(
        self,
        symbol: str,
        since_ms: int | None = None,
        limit: int = 500,
        from_id: int | None = None,
    ) -> list[Fill]:
        """The account's fills in ``symbol``, from its venue."""
        return await self._to(symbol).fetch_my_trades(symbol, since_ms, limit, from_id)

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        """``symbol``'s candle stream from its venue."""
        return self._to(symbol).watch_candles(symbol, timeframe)

    def watch_orders(self, symbol: str | None = None) -> AsyncIterator[Order]:
        """``symbol``'s order updates from its venue (one venue's stream at a time).

        Raises:
            ValueError: no symbol given (each venue streams its own orders).
        """
        if symbol is None:
            raise ValueError("watch_orders over several venues needs a symbol")
        return self._to(symbol).watch_orders(symbol)

    async def close(self) -> None:
        """Close every venue's connections."""
        for account in self.accounts:
            await account.connector.close()


def accounts_of(connector: ExchangeConnector, symbols: Sequence[str]) -> list[VenueAccount]:
    """The accounts behind ``connector`` trading ``symbols``: a router's venues (each with
    the symbols it trades of those), or the connector itself as the one account."""
    if isinstance(connector, VenueRouter):
        return [
            VenueAccount(a.id, a.connector, tuple(s for s in a.symbols if s in symbols))
            for a in connector.accounts
            if any(s in symbols for s in a.symbols)
        ]
    return [VenueAccount(None, connector, tuple(symbols))]
