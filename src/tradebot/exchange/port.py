"""The ExchangeConnector port: what the engine's shells need from any exchange.

Two implementations hold to it (one contract test suite runs against both):
``SimulatedConnector`` (the async face of the backtests' ``SimulatedExchange``) and
``CcxtConnector`` (paper trading against the sandbox and live trading, over CCXT).
Symbols are CCXT-unified (``BTC/USDT``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.market import Candle, Market, OrderBook, Ticker
from tradebot.domain.orders import ClientOrderId, Fill, Order


@dataclass(frozen=True, slots=True)
class Balance:
    """Free and locked amounts of one asset."""

    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        """Free plus locked."""
        return self.free + self.locked


class ExchangeConnector(Protocol):
    """Async access to one exchange account.

    Raises (every method): ``ExchangeUnavailable`` (retryable), ``RateLimited``,
    ``AuthenticationError``; order methods also ``OrderRejected`` / ``InsufficientFunds`` /
    ``InvalidOrder`` and ``OrderNotFound``. Never a CCXT exception.
    """

    async def load_markets(self) -> dict[str, Market]:
        """Markets by symbol, with precision and limits."""
        ...

    async def fetch_time(self) -> int:
        """The venue's clock in epoch ms (decides which candles have closed)."""
        ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Closed and current candles, oldest first."""
        ...

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Best bid/ask and last price."""
        ...

    async def fetch_order_book(self, symbol: str, limit: int = 20) -> OrderBook:
        """A book snapshot."""
        ...

    async def fetch_balance(self) -> dict[str, Balance]:
        """Balances by asset."""
        ...

    async def create_order(self, command: PlaceOrder) -> Order:
        """Send an order under its client order id and return it as the venue reports it."""
        ...

    async def cancel_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Cancel a resting order by client order id."""
        ...

    async def replace_order(
        self, old: ClientOrderId, command: PlaceOrder
    ) -> tuple[Order | None, Order]:
        """Cancel ``old`` and place ``command`` in one call, only if ``old`` is resting with
        nothing filled: ``old`` as canceled (None when the venue's answer was lost: look it
        up) and the new order. ``ReplaceRefused``: nothing placed, ``old`` maybe canceled."""
        ...

    async def fetch_order(self, client_order_id: ClientOrderId, symbol: str) -> Order:
        """Look an order up by client order id (how an UNKNOWN order is resolved)."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still resting."""
        ...

    async def fetch_my_trades(
        self,
        symbol: str,
        since_ms: int | None = None,
        limit: int = 500,
        from_id: int | None = None,
    ) -> list[Fill]:
        """The account's own fills, oldest first: from ``since_ms``, or from the venue's
        trade id ``from_id`` on (Binance's ``fromId``, sent without a time), or the newest
        ``limit`` without either."""
        ...

    def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        """Stream candles of ``timeframe`` as they update and close."""
        ...

    def watch_orders(self, symbol: str | None = None) -> AsyncIterator[Order]:
        """Stream the account's own order updates."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
