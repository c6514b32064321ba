"""Whether the closed bars vouch that none of a market's working orders can have filled.

A poll with a stop resting asked the venue for its open orders to learn whether the stop had
filled: a round trip, and a millisecond of CCXT's work, before every exit. The venue's own
bars answer that without a request. A fill, or a stop's trigger, needs a trade at the order's
price, and every trade of a bar lies between its low and its high; so an order resting as the
venue last answered (OPEN, nothing filled) that no closed bar since its placement reached has
not filled. Where an order acts is ``domain.fills``' one rule (``Resting.is_reached``).

The bars are counted from the bar the order's time names (it was placed during or after it,
so that is conservative) and on without a gap; an order whose bars have one is never vouched
for by bars again. A stop-limit that triggered and rests as a limit is never vouched for
either: the bar that triggered it reached its stop. The bar still forming is not looked at: a
fill there is one the backtest books after this bar's decision too, and the next poll, which
counts that bar, asks the venue.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence

from tradebot.domain.fills import Resting
from tradebot.domain.market import Candle, decimal_from_float
from tradebot.domain.orders import ClientOrderId, Order, OrderStatus, OrderType

_INF = float("inf")
_GAP = (-_INF, _INF)
"""The range of an order whose bars have a gap: every price reached."""


def _opened(candle: Candle) -> int:
    return candle.ts_ms


class Reach:
    """Per working order, the lowest and the highest price of the closed bars since it was
    placed, counted as the polls read them."""

    def __init__(self, bar_ms: int) -> None:
        self._bar_ms = bar_ms
        self._seen: dict[str, dict[ClientOrderId, tuple[int, float, float]]] = {}
        """Per market, per working order: the newest bar counted, the lowest low and the
        highest high since the order's placement."""

    def follow(
        self,
        closed: Mapping[str, Sequence[Candle]],
        working: Callable[[str], Sequence[Order]],
    ) -> None:
        """Count each market's bars of ``closed`` (a cycle's closed candles, oldest first)
        not yet counted into the range of each of its ``working`` orders."""
        for symbol, candles in closed.items():
            self._follow(symbol, working(symbol), candles)

    def _follow(self, symbol: str, mine: Sequence[Order], closed: Sequence[Candle]) -> None:
        # the orders no longer working are forgotten
        step, seen = self._bar_ms, self._seen.get(symbol, {})
        kept: dict[ClientOrderId, tuple[int, float, float]] = {}
        for order in mine:
            first = order.created_ts_ms - order.created_ts_ms % step
            through, low, high = seen.get(order.client_order_id, (first - step, _INF, -_INF))
            new = closed[bisect.bisect_right(closed, through, key=_opened) :]
            if new:
                if new[0].ts_ms != through + step or new[-1].ts_ms - new[0].ts_ms != step * (
                    len(new) - 1
                ):
                    low, high = _GAP
                else:
                    low = min(low, min(c.low for c in new))
                    high = max(high, max(c.high for c in new))
                through = new[-1].ts_ms
            kept[order.client_order_id] = (through, low, high)
        self._seen[symbol] = kept

    def untouched(self, symbol: str, mine: Sequence[Order]) -> bool:
        """Whether every one of ``mine`` rests as the venue last answered and no bar counted
        for it reached its price (``follow`` must have counted them): none can have filled."""
        seen = self._seen.get(symbol, {})
        for order in mine:
            counted = seen.get(order.client_order_id)
            if counted is None or order.status is not OrderStatus.OPEN or order.filled_qty:
                return False
            if order.type is OrderType.MARKET:  # fills wherever the price is
                return False
            _, low, high = counted
            resting = Resting(
                order.client_order_id, order.side, order.type, order.price, order.stop_price
            )
            falls, _ = resting.reach()  # the price it acts at or below (else at or above)
            if resting.is_reached(decimal_from_float(low if falls else high)):
                return False
        return True
