"""Asking a symbol's strategy for its signal: the engine's barrier around the user's code.

A strategy may return anything, so it is asked through a callable typed ``object``:
``signal_at`` then names a wrong answer. Compiled by mypyc (hatch_build.py), a call typed
``Signal`` would raise a bare TypeError on it first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from tradebot.domain.decisions import Signal, SignalAction
from tradebot.domain.errors import LookaheadError
from tradebot.domain.portfolio import Position
from tradebot.orchestrator.books import SymbolBook
from tradebot.strategy.barrier import not_a_signal, signal_off_candidates, strategy_failed
from tradebot.strategy.base import Bars, Strategy
from tradebot.strategy.horizon import ask_signal

_ask_strategy: Final[Callable[[Strategy, Bars, int, Position | None], object]] = ask_signal


def signal_at(book: SymbolBook, i: int, position: Position | None, announced: bool) -> Signal:
    """The signal of ``book``'s strategy at the close of bar ``i``.

    ``announced`` is False at a bar the strategy's ``signal_candidates`` left out, asked
    only for a decision's record: anything but HOLD there breaks its word.

    Raises:
        StrategyError: the strategy raised, returned something else than a Signal, or
            signalled at a bar it had left out; a LookaheadError when it read the future.
    """
    bars, strategy = book.bars, book.strategy
    try:
        signal = _ask_strategy(strategy, bars, i, position)
    except LookaheadError:
        raise  # it names the strategy, the column and the bar already
    except Exception as exc:  # the strategy barrier
        raise strategy_failed(strategy, book.times[i], exc) from exc
    if not isinstance(signal, Signal):
        raise not_a_signal(strategy, book.times[i], signal)
    if not announced and signal.action is not SignalAction.HOLD:
        raise signal_off_candidates(strategy, book.times[i], signal)
    return signal
