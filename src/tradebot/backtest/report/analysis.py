"""Everything the report says about the trades beyond the metrics, computed once per report:
MAE/MFE per trade, the signal and regime that opened each, monthly returns, the groups by exit
reason, by entry signal and by regime at entry, and a basket's symbols (contributions,
figures, correlation)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tradebot.backtest.breakdown import (
    GroupStats,
    entry_decisions,
    group_stats,
    regime_groups,
    regimes_at_entry,
    signal_kinds,
)
from tradebot.backtest.excursions import Excursion, excursions, price_ranges
from tradebot.backtest.legs import LegFigures, contributions, leg_figures, return_correlation
from tradebot.backtest.monthly import PeriodReturns, period_returns
from tradebot.backtest.result import BacktestResult, FloatArray


@dataclass(frozen=True, slots=True)
class TradeAnalysis:
    """The report's figures beyond ``PerformanceMetrics``; lists run parallel to the trades."""

    moves: list[Excursion | None]
    entry_kinds: list[str]
    entry_regimes: list[str]
    periods: PeriodReturns
    by_exit: list[GroupStats]
    by_entry: list[GroupStats]
    by_regime: list[GroupStats]  # empty when no trade was opened in a regime
    legs: list[LegFigures]
    contributions: dict[str, FloatArray]
    correlation: pd.DataFrame | None


def analyse(result: BacktestResult) -> TradeAnalysis:
    """Compute every figure of the report's tables for ``result``."""
    trades = result.trades
    moves = excursions(trades, price_ranges(result))
    entries = entry_decisions(trades, result.fills, result.decisions)  # one walk of them
    kinds = signal_kinds(entries)
    regimes = regimes_at_entry(entries)
    exits = [t.exit_reason or "(none)" for t in trades]
    gained = contributions(result) if result.legs else {}
    return TradeAnalysis(
        moves=moves,
        entry_kinds=kinds,
        entry_regimes=regimes,
        periods=period_returns(result.ts_ms, result.equity, result.starting_cash),
        by_exit=group_stats(trades, exits, moves),
        by_entry=group_stats(trades, kinds, moves),
        by_regime=regime_groups(trades, regimes, moves),
        legs=leg_figures(result, moves, gained) if result.legs else [],
        contributions=gained,
        correlation=return_correlation(result) if len(result.legs) > 1 else None,
    )
