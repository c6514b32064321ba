"""What happened inside the sandbox, for the websocket hub to push to subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradebot.sandbox.book import BookDiff


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An ``executionReport`` for the user-data stream, already in Binance's form."""

    report: dict[str, object]


@dataclass(frozen=True, slots=True)
class BalancesChanged:
    """The assets whose balance changed (``outboundAccountPosition``)."""

    assets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TradePrinted:
    """A public trade on a symbol."""

    venue_id: str
    trade_id: int
    price: Decimal
    qty: Decimal
    buyer_is_maker: bool
    time_ms: int


@dataclass(frozen=True, slots=True)
class BookChanged:
    """The synthetic book of a symbol changed."""

    venue_id: str
    diff: BookDiff


@dataclass(frozen=True, slots=True)
class PriceMoved:
    """The last price or the current bar of a symbol changed (ticker and kline pushes)."""

    venue_id: str
    bar_closed: bool


Event = OrderUpdated | BalancesChanged | TradePrinted | BookChanged | PriceMoved
