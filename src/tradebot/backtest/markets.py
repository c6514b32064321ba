"""Market rules for backtests, as Binance spot states them.

A backtest must refuse what the venue would refuse, so it needs the venue's lot step, tick
and minimum notional. These are Binance spot's filters for the pairs of the bundled and
shared data (``domain/binance_spot.py``, which the sandbox states too); any other pair gets
rules inferred from its prices.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tradebot.domain.binance_spot import BINANCE_SPOT
from tradebot.domain.errors import ConfigError
from tradebot.domain.market import Market


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"BTC/USDT"`` → ``("BTC", "USDT")``.

    Raises:
        ConfigError: the symbol is not ``BASE/QUOTE``.
    """
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote:
        raise ConfigError(f"symbol {symbol!r} is not BASE/QUOTE, e.g. BTC/USDT")
    return base, quote


def backtest_market(symbol: str, close: npt.NDArray[np.float64] | None = None) -> Market:
    """Binance's rules for a known pair; otherwise a tick of 1e-8 of the median price."""
    base, quote = split_symbol(symbol)
    known = BINANCE_SPOT.get(symbol)
    if known is not None:
        return Market(
            symbol,
            base,
            quote,
            known.tick_size,
            known.step_size,
            known.min_qty,
            known.min_notional,
        )
    median = float(np.nanmedian(close)) if close is not None and len(close) else 1.0
    tick = Decimal(1).scaleb(int(np.floor(np.log10(max(median, 1e-12)))) - 6)
    return Market(symbol, base, quote, tick, Decimal("0.00000001"), Decimal(0), Decimal(1))
