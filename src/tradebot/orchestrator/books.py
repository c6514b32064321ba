"""SymbolBook: what the engine keeps for one symbol it trades.

One engine trades many symbols on one wallet: the order router, the position manager (one
``Portfolio``), the risk controller and the kill switch are shared, because they are about
the account. What is about one market lives in its book: the market's rules, the strategy
deciding it, the bars its ``BarClosed`` events index into, the orders guarding its position,
and the ATR each entry was decided with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import numpy as np

from tradebot.domain.market import LastFloat, Market
from tradebot.domain.orders import ClientOrderId
from tradebot.orchestrator.protection import Protector
from tradebot.orchestrator.settings import ATR_COLUMN
from tradebot.strategy.base import Bars, Strategy, number_view

ZERO: Final = Decimal(0)


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
    """Set with ``use_bars``, which also makes the three views below."""
    times: Sequence[int] = ()
    """The bars' open times, their closes and the stops' ATR, as memoryviews of the arrays:
    a visit reads Python numbers there, not numpy scalars through ``Bars``."""
    closes: Sequence[float] = ()
    stop_atr: Sequence[float] = ()
    entry_atr: dict[ClientOrderId, float | None] = field(default_factory=dict)
    last_qty: Decimal = ZERO
    """Held at the close of this symbol's last decided bar (values the day's start)."""
    qty_float: LastFloat = field(default_factory=LastFloat)
    """A holding as a float, for a decision's record."""

    def use_bars(self, bars: Bars) -> None:
        """Decide on ``bars`` from now on (they hold the stops' ATR column)."""
        self.bars = bars
        self.times = number_view(bars.ts_ms, np.int64)
        self.closes = number_view(bars["close"], np.float64) if "close" in bars else ()
        self.stop_atr = number_view(bars[ATR_COLUMN], np.float64) if ATR_COLUMN in bars else ()
