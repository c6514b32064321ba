"""Binance spot's trading rules for the pairs of the bundled and shared data.

Both venues that stand in for Binance state these for a known pair: the backtest's market
(``backtest/markets.py``) and the sandbox's exchangeInfo (``sandbox/markets.py``), so a
backtest and a paper run of the same bars size and price orders alike, and as Binance would.
Binance keeps a pair's lot step whatever its price (BTC/USDT's is 0.00001 at 20,000 and at
100,000); rules inferred from a file's prices would change with where the file starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

MAX_QTY_BOUND = Decimal(92_233_720_368)
"""The largest LOT_SIZE ``maxQty`` Binance spot can state: its amounts are 64-bit integers of
1e-8 units. A venue standing in for Binance uses it where Binance's own maximum for a pair is
not recorded here, so it never refuses an amount Binance would accept."""


@dataclass(frozen=True, slots=True)
class SpotFilters:
    """PRICE_FILTER tick, LOT_SIZE step, minimum and maximum, NOTIONAL minimum (exchangeInfo,
    2025)."""

    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_qty: Decimal = MAX_QTY_BOUND
    """Binance's LOT_SIZE maximum where recorded, else the bound no pair exceeds."""


def _filters(
    tick: str, step: str, min_qty: str, min_notional: str, max_qty: str | None = None
) -> SpotFilters:
    limit = MAX_QTY_BOUND if max_qty is None else Decimal(max_qty)
    return SpotFilters(Decimal(tick), Decimal(step), Decimal(min_qty), Decimal(min_notional), limit)


BINANCE_SPOT: dict[str, SpotFilters] = {
    "BTC/USDT": _filters("0.01", "0.00001", "0.00001", "5", "9000"),
    "ETH/USDT": _filters("0.01", "0.0001", "0.0001", "5", "9000"),
    "SOL/USDT": _filters("0.01", "0.001", "0.001", "5"),
    "BNB/USDT": _filters("0.01", "0.001", "0.001", "5", "9000"),
    "XRP/USDT": _filters("0.0001", "0.1", "0.1", "5", "9222449"),
    "ADA/USDT": _filters("0.0001", "0.1", "0.1", "5"),
    "DOGE/USDT": _filters("0.00001", "1", "1", "1"),
    "LTC/USDT": _filters("0.01", "0.001", "0.001", "5"),
}
"""By CCXT-unified symbol."""
