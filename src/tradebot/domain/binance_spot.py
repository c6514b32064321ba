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


@dataclass(frozen=True, slots=True)
class SpotFilters:
    """PRICE_FILTER tick, LOT_SIZE step and minimum, NOTIONAL minimum (exchangeInfo, 2025)."""

    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal


def _filters(tick: str, step: str, min_qty: str, min_notional: str) -> SpotFilters:
    return SpotFilters(Decimal(tick), Decimal(step), Decimal(min_qty), Decimal(min_notional))


BINANCE_SPOT: dict[str, SpotFilters] = {
    "BTC/USDT": _filters("0.01", "0.00001", "0.00001", "5"),
    "ETH/USDT": _filters("0.01", "0.0001", "0.0001", "5"),
    "SOL/USDT": _filters("0.01", "0.001", "0.001", "5"),
    "BNB/USDT": _filters("0.01", "0.001", "0.001", "5"),
    "XRP/USDT": _filters("0.0001", "0.1", "0.1", "5"),
    "ADA/USDT": _filters("0.0001", "0.1", "0.1", "5"),
    "DOGE/USDT": _filters("0.00001", "1", "1", "1"),
    "LTC/USDT": _filters("0.01", "0.001", "0.001", "5"),
}
"""By CCXT-unified symbol."""
