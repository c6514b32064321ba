"""How far each trade went against and for its entry: MAE and MFE, from the bars it was open.

A report looks back, so nothing here needs to be causal. A candle says where the price went,
not when, so the bars a trade was open in are counted whole, the entry bar and the exit bar
included: a stop hit in the exit bar's low shows as that trade's MAE even if the price had
reached further before the fill. Long spot positions only: adverse is down, favourable is up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tradebot.backtest.result import BacktestResult, FloatArray, IntArray
from tradebot.domain.portfolio import Trade


@dataclass(frozen=True, slots=True)
class Excursion:
    """A trade's maximum adverse (``mae_pct`` ≤ 0) and favourable (``mfe_pct`` ≥ 0) excursion,
    in percent of its entry price."""

    mae_pct: float
    mfe_pct: float


@dataclass(frozen=True, slots=True)
class PriceRange:
    """One symbol's bar times with their highs and lows (NaN where the symbol had no bar)."""

    ts_ms: IntArray
    high: FloatArray
    low: FloatArray


def excursions(trades: Sequence[Trade], prices: Mapping[str, PriceRange]) -> list[Excursion | None]:
    """Each trade's MAE and MFE from its symbol's bars; None when no bar covers the trade."""
    return [_excursion(t, prices.get(t.symbol)) for t in trades]


def _excursion(trade: Trade, prices: PriceRange | None) -> Excursion | None:
    entry = float(trade.entry_price)
    if prices is None or entry <= 0 or not len(prices.ts_ms):
        return None
    # The bar open at the entry (a fill carries its bar's open time) through the exit's bar.
    first = max(int(np.searchsorted(prices.ts_ms, trade.entry_ts_ms, side="right")) - 1, 0)
    last = int(np.searchsorted(prices.ts_ms, trade.exit_ts_ms, side="right"))
    lows, highs = prices.low[first:last], prices.high[first:last]
    if not len(lows) or np.isnan(lows).all():
        return None
    worst, best = float(np.nanmin(lows)), float(np.nanmax(highs))
    return Excursion(min(worst / entry - 1, 0.0) * 100, max(best / entry - 1, 0.0) * 100)


def price_ranges(result: BacktestResult) -> dict[str, PriceRange]:
    """The bars each traded symbol of ``result`` has: its own, or each basket leg's."""
    if result.legs:
        return {s: PriceRange(result.ts_ms, leg.high, leg.low) for s, leg in result.legs.items()}
    return {result.symbol: PriceRange(result.ts_ms, result.high, result.low)}
