"""The documented strategy file ``tradebot new-strategy NAME`` writes: the shortest way in.

The template is a complete, working strategy (an SMA crossover with a volatility filter)
whose comments say what each method must do and why, so a newcomer edits a strategy that
already backtests, passes the lookahead check and paper-trades, instead of starting from the
abstract base class.
"""

from __future__ import annotations

import re
from pathlib import Path

from tradebot.domain.errors import ConfigError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

TEMPLATE = '''"""{class_name}: my strategy (written by `tradebot new-strategy {name}`; edit freely).

Run it (from the folder you ran `tradebot new-strategy` in):
    tradebot backtest --strategy {path}:{class_name}
    tradebot backtest --strategy {path}:{class_name} -p fast_period=20
    tradebot backtest -c {config} --data BTCUSDT-1h-2024.csv
    tradebot lookahead-check {path}:{class_name}
    tradebot run --mode paper --bars 500 -c {config}
The lookahead check proves no indicator peeks ahead; `run --mode paper` trades the local
sandbox exchange through the same code as live trading (docs/strategies.md goes on to live).

How a strategy is called (the same in backtests, paper and live trading):
1. ``calculate_indicators(candles)`` once over the whole history (a backtest) or over a
   rolling window of recent candles (paper and live): add indicator columns, vectorised.
   CAUSAL ONLY: the value at row i may use rows 0..i, never i+1 (no ``shift(-1)``, no
   centred windows, no ``.mean()`` of the whole column). `tradebot lookahead-check` fails
   a strategy that breaks this.
2. ``generate_signals(bars, i, position)`` at the close of bar i: read ``bars["col"][i]``
   (plain numpy arrays, fast) and return a ``Signal`` - ALWAYS a Signal, ``HOLD`` when there
   is nothing to do, never None. A BUY when already long, or a SELL when flat, is ignored.
   The order fills at the next bar's open; the stop and the size come from the config's
   ``risk`` section, not from here.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy, StrategyConfig
from tradebot.strategy.indicators import atr, sma


class {class_name}(Strategy):
    """BUY when the fast SMA crosses above the slow SMA while the market moves enough
    (ATR at least ``min_atr_pct`` % of the close); SELL when it crosses below."""

    name: ClassVar[str] = "{name}"

    # Parameters are keyword arguments with defaults; `-p fast_period=10` on the command
    # line or `strategy.params` in the config override them. Check them here: a ValueError
    # becomes a clear error at start-up instead of nonsense trades.
    def __init__(
        self, fast_period: int = 10, slow_period: int = 30, min_atr_pct: float = 0.2
    ) -> None:
        if not 1 <= int(fast_period) < int(slow_period):
            msg = f"need 1 <= fast_period < slow_period, got {{fast_period}}, {{slow_period}}"
            raise ValueError(msg)
        self.fast_period = int(fast_period)
        self.slow_period = int(slow_period)
        self.min_atr_pct = float(min_atr_pct)

    @property
    def warmup_bars(self) -> int:
        """Bars before the indicators mean anything; the engine holds before this bar."""
        return self.slow_period + 1

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Add the indicator columns (causal: row i uses rows 0..i only)."""
        frame = candles.copy(deep=False)  # shares the candles (copy-on-write): no 2nd copy
        close = frame["close"].to_numpy(dtype=np.float64)
        high = frame["high"].to_numpy(dtype=np.float64)
        low = frame["low"].to_numpy(dtype=np.float64)
        frame["sma_fast"] = sma(close, self.fast_period)
        frame["sma_slow"] = sma(close, self.slow_period)
        frame["atr_pct"] = 100.0 * atr(high, low, close, 14) / close
        return frame

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """The signal at the close of bar ``i``; read bars ``0..i`` only."""
        if i < self.warmup_bars:
            return HOLD
        fast, slow = bars["sma_fast"], bars["sma_slow"]
        crossed_up = fast[i - 1] <= slow[i - 1] and fast[i] > slow[i]
        crossed_down = fast[i - 1] >= slow[i - 1] and fast[i] < slow[i]
        # metadata lands in the decision log (decisions.jsonl) beside the reason
        seen = {{"sma_fast": float(fast[i]), "sma_slow": float(slow[i])}}
        if crossed_up and bars["atr_pct"][i] >= self.min_atr_pct:
            return Signal(SignalAction.BUY, 0.6, "fast SMA crossed above slow", seen)
        if crossed_down:
            return Signal(SignalAction.SELL, 0.6, "fast SMA crossed below slow", seen)
        return HOLD

    def get_config(self) -> StrategyConfig:
        """The parameters, written into reports and the decision log."""
        return {{
            "fast_period": self.fast_period,
            "slow_period": self.slow_period,
            "min_atr_pct": self.min_atr_pct,
        }}
'''


def class_name(name: str) -> str:
    """``my_momentum`` → ``MyMomentum``."""
    return "".join(part.capitalize() for part in name.split("_") if part)


def render(name: str, path: Path, config: Path) -> str:
    """The template's text for a strategy called ``name`` at ``path`` (config at ``config``)."""
    return TEMPLATE.format(
        name=name, class_name=class_name(name), path=path.as_posix(), config=config.as_posix()
    )


def check_name(name: str) -> str:
    """Accept a snake_case strategy name (it becomes the file name and the class name).

    Raises:
        ConfigError: the name is not lower-case letters, digits and underscores.
    """
    if not _NAME.match(name) or not class_name(name):
        raise ConfigError(
            f"strategy name {name!r}: use lower-case letters, digits and underscores, starting "
            "with a letter (e.g. my_momentum)"
        )
    return name
