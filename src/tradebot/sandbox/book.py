"""The synthetic order book: levels generated around the current price, consumed by takers.

The book is regenerated whenever the price moves; between moves, taker orders eat its levels
so a large order walks the book and may fill only partly. Every change bumps the update id
that REST ``/depth`` and the websocket depth diffs share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradebot.sandbox.markets import MarketSpec

_BPS = Decimal(10000)


@dataclass(frozen=True, slots=True)
class BookShape:
    """How the synthetic book looks: spread, level spacing, depth and size."""

    spread_bps: Decimal
    step_bps: Decimal
    levels: int
    level_notional: Decimal


@dataclass(frozen=True, slots=True)
class BookDiff:
    """One change of the book; a qty of 0 removes the level (Binance's diff convention)."""

    update_id: int
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


@dataclass(slots=True)
class SyntheticBook:
    """One symbol's book. ``update_id`` is Binance's ``lastUpdateId``."""

    spec: MarketSpec
    shape: BookShape
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    update_id: int = 1

    def reprice(self, mid: Decimal) -> BookDiff:
        """Regenerate both sides around ``mid`` and return what changed."""
        qty = max(self.spec.floor_qty(self.shape.level_notional / mid), self.spec.min_qty)
        half = self.shape.spread_bps / 2
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        for i in range(self.shape.levels):
            off = (half + i * self.shape.step_bps) / _BPS
            bid = self.spec.floor_price(mid * (1 - off))
            ask = self.spec.ceil_price(mid * (1 + off))
            while bid in bids:
                bid -= self.spec.tick_size
            while ask in asks:
                ask += self.spec.tick_size
            if bid > 0:
                bids[bid] = qty
            asks[ask] = qty
        return self._replace(bids, asks)

    def _replace(self, bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]) -> BookDiff:
        diff_bids = _changes(self.bids, bids)
        diff_asks = _changes(self.asks, asks)
        self.bids, self.asks = bids, asks
        self.update_id += 1
        return BookDiff(self.update_id, diff_bids, diff_asks)

    def plan(
        self, side: str, qty: Decimal | None, quote: Decimal | None, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """Return the (price, qty) fills a taker ``side`` order would get, changing nothing.

        ``qty`` caps the base amount, ``quote`` the quote spent (``quoteOrderQty``) and
        ``limit`` the worst price accepted.
        """
        levels = self.asks if side == "BUY" else self.bids
        fills: list[tuple[Decimal, Decimal]] = []
        left_qty, left_quote = qty, quote
        for price in sorted(levels, reverse=side == "SELL"):
            if limit is not None and (price > limit if side == "BUY" else price < limit):
                break
            take = levels[price]
            if left_qty is not None:
                take = min(take, left_qty)
            if left_quote is not None:
                take = min(take, self.spec.floor_qty(left_quote / price))
            if take <= 0:
                break
            fills.append((price, take))
            left_qty = None if left_qty is None else left_qty - take
            left_quote = None if left_quote is None else left_quote - take * price
        return fills

    def consume(self, side: str, fills: list[tuple[Decimal, Decimal]]) -> BookDiff:
        """Remove planned fills from the book; return the change."""
        levels = self.asks if side == "BUY" else self.bids
        changed: list[tuple[Decimal, Decimal]] = []
        for price, qty in fills:
            levels[price] -= qty
            changed.append((price, levels[price]))
            if levels[price] <= 0:
                del levels[price]
        self.update_id += 1
        if side == "BUY":
            return BookDiff(self.update_id, [], changed)
        return BookDiff(self.update_id, changed, [])

    def touch(self) -> BookDiff:
        """Re-announce the best levels unchanged under a new update id.

        A client that just took a REST snapshot needs one diff after it before its local book
        is usable; in deterministic mode the price may not move for a long time.
        """
        self.update_id += 1
        best_bid = max(self.bids, default=None)
        best_ask = min(self.asks, default=None)
        bids = [] if best_bid is None else [(best_bid, self.bids[best_bid])]
        asks = [] if best_ask is None else [(best_ask, self.asks[best_ask])]
        return BookDiff(self.update_id, bids, asks)

    def best(self) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
        """(best bid, qty), (best ask, qty); zeros for an empty side."""
        zero = (Decimal(0), Decimal(0))
        bid = max(self.bids, default=None)
        ask = min(self.asks, default=None)
        return (
            zero if bid is None else (bid, self.bids[bid]),
            zero if ask is None else (ask, self.asks[ask]),
        )

    def snapshot(self, limit: int) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        """Best ``limit`` levels per side, best first."""
        bids = sorted(self.bids.items(), reverse=True)[:limit]
        asks = sorted(self.asks.items())[:limit]
        return bids, asks


def _changes(
    old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]
) -> list[tuple[Decimal, Decimal]]:
    removed = [(p, Decimal(0)) for p in old if p not in new]
    changed = [(p, q) for p, q in new.items() if old.get(p) != q]
    return removed + changed
