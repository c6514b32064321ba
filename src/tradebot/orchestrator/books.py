"""SymbolBook: what the engine keeps for one symbol it trades.

One engine trades many symbols on one wallet: the order router, the position manager (one
``Portfolio``), the risk controller and the kill switch are shared, because they are about
the account. What is about one market lives in its book: the market's rules, the strategy
deciding it, the bars its ``BarClosed`` events index into, the orders guarding its position,
and the ATR each entry was decided with.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from tradebot.domain.market import Market, decimal_from_float
from tradebot.domain.orders import ClientOrderId
from tradebot.orchestrator.protection import Protector
from tradebot.strategy.base import Bars, Strategy

ZERO = Decimal(0)


def _no_bars() -> Bars:
    return Bars(np.zeros(0, dtype=np.int64), {})


@dataclass(slots=True, eq=False)
class SymbolBook:
    """One symbol's market, strategy, prepared bars and protection."""

    symbol: str
    market: Market
    strategy: Strategy
    protector: Protector
    bars: Bars = field(default_factory=_no_bars)
    entry_atr: dict[ClientOrderId, float | None] = field(default_factory=dict)
    last_qty: Decimal = ZERO
    """Held at the close of this symbol's last decided bar (values the day's start)."""
    _times: memoryview | tuple[int, ...] = ()
    _closes: memoryview | tuple[float, ...] = ()
    _times_of: Bars | None = None
    _marked: tuple[int, float | None] = (-1, None)  # the last ``mark_at`` asked and its answer
    _exact: tuple[int, Decimal | None] = (-1, None)  # the same for ``exact_mark_at``

    def mark_at(self, ts_ms: int) -> float | None:
        """The close of this symbol's last bar opened at or before ``ts_ms`` (None: no bar)."""
        # Every decision of a basket values the other holdings, all at the same close: the
        # last answer is kept, and a bisect on the bar times costs a tenth of numpy's scalar
        # searchsorted. Times and closes are read through memoryviews of the bars' arrays
        # (Python numbers, no numpy scalars): a list of the times was 78 MB on two million bars.
        if self._times_of is not self.bars:
            times = np.ascontiguousarray(self.bars.ts_ms, dtype=np.int64)
            self._times, self._times_of = times.data, self.bars
            closes = self.bars["close"] if "close" in self.bars else np.zeros(0)
            self._closes = np.ascontiguousarray(closes, dtype=np.float64).data
            self._marked = self._exact = (-1, None)
        elif self._marked[0] == ts_ms:
            return self._marked[1]
        k = bisect_right(self._times, ts_ms) - 1
        mark = self._closes[k] if k >= 0 else None
        self._marked = (ts_ms, mark)
        return mark

    def exact_mark_at(self, ts_ms: int) -> Decimal | None:
        """``mark_at`` as the exact decimal of the close (the risk checks' arithmetic)."""
        if self._exact[0] != ts_ms or self._times_of is not self.bars:
            mark = self.mark_at(ts_ms)
            self._exact = (ts_ms, None if mark is None else decimal_from_float(mark))
        return self._exact[1]
