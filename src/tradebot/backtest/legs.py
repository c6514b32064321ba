"""What each symbol of a basket did on the one account: its contribution to equity over time,
its own figures, and how the symbols' returns moved together.

A symbol's contribution at a close is the cash its fills moved (sells in, buys out, fees
charged in the quote currency) plus the value still held of it: added over the symbols and
to the starting cash, the contributions are the account's equity at every close.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from tradebot.backtest.breakdown import GroupStats, group_stats
from tradebot.backtest.excursions import Excursion
from tradebot.backtest.result import BacktestResult, FloatArray
from tradebot.domain.orders import OrderSide


@dataclass(frozen=True, slots=True)
class LegFigures:
    """One symbol's part of a basket run."""

    symbol: str
    contribution: float  # quote gained at the last close, held value included
    contribution_pct: float  # of the starting cash
    exposure_time_pct: float  # share of the timeline with a position (fee dust is none)
    buy_and_hold_pct: float | None  # its first close to its last (None: no price)
    trades: GroupStats | None  # None without a closed trade


def contributions(result: BacktestResult) -> dict[str, FloatArray]:
    """Each symbol's gain at every close of the timeline, in the quote currency."""
    out: dict[str, FloatArray] = {}
    n = result.n_bars
    for symbol, leg in result.legs.items():
        quote = symbol.split("/")[-1]
        flow = np.zeros(n, dtype=np.float64)
        fills = [f for f in result.fills if f.symbol == symbol]
        if fills and n:
            at = np.searchsorted(result.ts_ms, [f.ts_ms for f in fills], side="right") - 1
            amounts = [
                _cash_moved(f.side, f.notional, f.fee if f.fee_asset == quote else Decimal(0))
                for f in fills
            ]
            np.add.at(flow, np.clip(at, 0, n - 1), np.asarray(amounts, dtype=np.float64))
        out[symbol] = np.cumsum(flow) + leg.value
    return out


def leg_figures(
    result: BacktestResult, moves: list[Excursion | None], gained: dict[str, FloatArray]
) -> list[LegFigures]:
    """Per symbol: contribution (``gained``: ``contributions(result)``), exposure,
    buy-and-hold and its trades' figures."""
    by_symbol = {
        g.key: g for g in group_stats(result.trades, [t.symbol for t in result.trades], moves)
    }
    rows = []
    for symbol, leg in result.legs.items():
        final = float(gained[symbol][-1]) if len(gained[symbol]) else 0.0
        known = leg.close[~np.isnan(leg.close)]
        hold = float(known[-1] / known[0] - 1) * 100 if len(known) and known[0] > 0 else None
        rows.append(
            LegFigures(
                symbol=symbol,
                contribution=final,
                contribution_pct=final / result.starting_cash * 100
                if result.starting_cash
                else 0.0,
                exposure_time_pct=float(leg.exposed.mean()) * 100 if len(leg.exposed) else 0.0,
                buy_and_hold_pct=hold,
                trades=by_symbol.get(symbol),
            )
        )
    return rows


def return_correlation(result: BacktestResult) -> pd.DataFrame:
    """Pearson correlation of the symbols' log returns from bar to bar, over the bars both
    symbols have (a symbol's rows and columns are NaN without two returns in common)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = {s: np.log(leg.close) for s, leg in result.legs.items()}
    returns: pd.DataFrame = pd.DataFrame(logs).diff()
    return returns.corr(min_periods=2)


def _cash_moved(side: OrderSide, notional: Decimal, fee_in_quote: Decimal) -> float:
    moved = notional - fee_in_quote if side is OrderSide.SELL else -notional - fee_in_quote
    return float(moved)
