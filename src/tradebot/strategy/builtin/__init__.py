"""The strategies that ship with tradebot; the registry names them."""

from __future__ import annotations

from tradebot.strategy.builtin.breakout import Breakout
from tradebot.strategy.builtin.ema_crossover import EmaCrossover
from tradebot.strategy.builtin.rsi_mean_reversion import RsiMeanReversion

__all__ = ["Breakout", "EmaCrossover", "RsiMeanReversion"]
