"""The strategy barrier's messages: what failed, in which file and line, at which bar.

A strategy is user code. When it raises, or returns something that is not a ``Signal``, the
engine stops with a ``StrategyError`` a person can act on: the strategy's name, the file and
line where it went wrong, the bar's UTC time (not epoch milliseconds) and what to do.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime

from tradebot.domain.decisions import Signal
from tradebot.domain.errors import StrategyError
from tradebot.strategy.base import Strategy


def bar_time(ts_ms: int) -> str:
    """A bar's open time as UTC text."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _where(strategy: Strategy, exc: BaseException | None = None) -> str:
    code = type(strategy).generate_signals.__code__
    if exc is not None:
        frames = [
            f for f in traceback.extract_tb(exc.__traceback__) if f.filename == code.co_filename
        ]
        if frames:
            return f"{frames[-1].filename}:{frames[-1].lineno}"
    return f"{code.co_filename}:{code.co_firstlineno}"


def strategy_failed(strategy: Strategy, ts_ms: int, exc: Exception) -> StrategyError:
    """The error for a strategy that raised while deciding the bar opened at ``ts_ms``."""
    return StrategyError(
        f"strategy {strategy.name} failed at bar {bar_time(ts_ms)} "
        f"({_where(strategy, exc)}): {exc!r}"
    )


def not_a_signal(strategy: Strategy, ts_ms: int, returned: object) -> StrategyError:
    """The error for a strategy whose ``generate_signals`` returned something else."""
    what = "None" if returned is None else f"a {type(returned).__name__}"
    return StrategyError(
        f"strategy {strategy.name} returned {what} at bar {bar_time(ts_ms)} "
        f"({_where(strategy)}, generate_signals): it must return a Signal; return HOLD "
        "(tradebot.domain.decisions.HOLD) when there is nothing to do"
    )


def signal_off_candidates(strategy: Strategy, ts_ms: int, signal: Signal) -> StrategyError:
    """The error for a strategy that signalled at a bar its ``signal_candidates`` left out
    (a backtest skips such bars and takes HOLD at them)."""
    return StrategyError(
        f"strategy {strategy.name} signalled {signal.action.value} at bar {bar_time(ts_ms)}"
        f" ({_where(strategy)}, generate_signals), which its signal_candidates left out:"
        " signal_candidates must include every bar that can signal (return None to be asked"
        " at every bar)"
    )
