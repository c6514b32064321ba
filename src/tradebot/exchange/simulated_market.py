"""The market side of the SimulatedConnector: a replayed candle history and a synthetic book.

Both follow the sandbox's rules (docs/sandbox.md) so that the simulated venue and the
sandbox serve the same data: at time ``now`` the bars that opened by ``now`` are known, the
last one only by its open (high = low = close = open, volume 0); the book is generated
around the current price, its best levels half the spread away and one level every
``step_bps`` after that.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise

from tradebot.domain.errors import DataError
from tradebot.domain.market import BookLevel, Candle, Market, OrderBook, timeframe_to_ms

_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class BookShape:
    """How the synthetic book looks (the sandbox's defaults, but no spread).

    Use ``spread_bps`` = 2 × the exchange's ``slippage_bps`` for a book whose best levels are
    where the simulated market orders fill.
    """

    spread_bps: Decimal = Decimal(0)
    step_bps: Decimal = Decimal(1)
    levels: int = 20
    level_notional: Decimal = Decimal(50_000)


class CandleHistory:
    """Candles of one timeframe per symbol, all on one time grid, oldest first."""

    def __init__(
        self,
        candles: Mapping[str, Sequence[Candle]],
        timeframe: str,
        start_ms: int | None = None,
    ) -> None:
        """Check and index ``candles``; the replay starts at ``start_ms`` (default: the first).

        Raises:
            DataError: no candles, or a symbol's candles are unsorted, off the timeframe's
                grid, or end before the start.
            ValueError: ``timeframe`` is not a CCXT timeframe.
        """
        self.timeframe = timeframe
        self.tf_ms = timeframe_to_ms(timeframe)
        firsts = [c[0].ts_ms for c in candles.values() if c]
        if not firsts:
            raise DataError("a candle history needs candles of at least one symbol")
        self.start_ms = min(firsts) if start_ms is None else start_ms
        self._candles = {s: list(c) for s, c in candles.items()}
        self._ts = {s: [c.ts_ms for c in bars] for s, bars in self._candles.items()}
        for symbol, ts in self._ts.items():
            self._check(symbol, ts)
        self.end_ms = min(ts[-1] for ts in self._ts.values())
        """The last time every symbol has a bar: the replay cannot open a bar after it."""

    def _check(self, symbol: str, ts: list[int]) -> None:
        unsorted = any(b <= a for a, b in pairwise(ts))
        if unsorted or any((t - self.start_ms) % self.tf_ms for t in ts):
            raise DataError(
                f"candles of {symbol} must be sorted {self.timeframe} bars on one grid with the "
                f"start {self.start_ms}; resample or clean them first"
            )
        if not ts or ts[-1] < self.start_ms:
            raise DataError(f"candles of {symbol} end before the replay's start {self.start_ms}")

    @property
    def symbols(self) -> list[str]:
        """Symbols with candles."""
        return list(self._candles)

    def current(self, symbol: str, now_ms: int) -> Candle | None:
        """The full bar opening at ``now_ms`` (None in a gap or past the end)."""
        ts = self._ts[symbol]
        i = bisect_left(ts, now_ms)
        return self._candles[symbol][i] if i < len(ts) and ts[i] == now_ms else None

    def last_closed(self, symbol: str, now_ms: int) -> Candle | None:
        """The last bar that opened before ``now_ms``."""
        i = bisect_left(self._ts[symbol], now_ms)
        return self._candles[symbol][i - 1] if i > 0 else None

    def opened_by(self, symbol: str, now_ms: int, since_ms: int | None = None) -> list[Candle]:
        """Bars opened by ``now_ms`` (from ``since_ms`` on); the one opening at it by its open."""
        ts = self._ts[symbol]
        first = 0 if since_ms is None else bisect_left(ts, since_ms)
        bars = self._candles[symbol][first : bisect_right(ts, now_ms)]
        if bars and bars[-1].ts_ms == now_ms:
            bars[-1] = opening(bars[-1])
        return bars


def opening(candle: Candle) -> Candle:
    """A bar as it is seen the moment it opens: its open only, no volume."""
    return Candle(candle.ts_ms, candle.open, candle.open, candle.open, candle.open, 0.0)


def synthetic_book(
    market: Market, mid: Decimal, shape: BookShape, levels: int, ts_ms: int, nonce: int
) -> OrderBook:
    """A book of ``levels`` levels a side around ``mid``, each worth ``level_notional``."""
    step = market.price_step
    lots = (shape.level_notional / mid / market.qty_step).to_integral_value(ROUND_FLOOR)
    size = float(max(lots * market.qty_step, market.min_qty, market.qty_step))
    bids: list[Decimal] = []
    asks: list[Decimal] = []
    for i in range(min(levels, shape.levels)):
        off = (shape.spread_bps / 2 + i * shape.step_bps) / _BPS
        bid = (mid * (1 - off) / step).to_integral_value(ROUND_FLOOR) * step
        ask = (mid * (1 + off) / step).to_integral_value(ROUND_CEILING) * step
        bid = min(bid, bids[-1] - step) if bids else bid  # one level per tick at most
        ask = max(ask, asks[-1] + step) if asks else ask
        if bid > 0:
            bids.append(bid)
        asks.append(ask)
    return OrderBook(
        market.symbol,
        ts_ms,
        tuple(BookLevel(float(p), size) for p in bids),
        tuple(BookLevel(float(p), size) for p in asks),
        nonce,
    )
