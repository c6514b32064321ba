"""Causal, vectorised technical indicators on float64 numpy arrays (NaN during warm-up).

Each matches TA-Lib's function of the same name after warm-up (tests hold them to 1e-9).
"""

from __future__ import annotations

from tradebot.strategy.indicators.averages import (
    ema,
    ema_convergence_bars,
    ewm_mean,
    seeded_ewm,
    sma,
    wilder,
)
from tradebot.strategy.indicators.momentum import macd, rsi
from tradebot.strategy.indicators.volatility import atr, bollinger, donchian, true_range

__all__ = [
    "atr",
    "bollinger",
    "donchian",
    "ema",
    "ema_convergence_bars",
    "ewm_mean",
    "macd",
    "rsi",
    "seeded_ewm",
    "sma",
    "true_range",
    "wilder",
]
