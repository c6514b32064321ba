"""Run a strategy over one history the way the engine does, for the checks to compare runs.

A trial is a fresh strategy instance, its indicators on the history, its
``signal_candidates`` (a backtest asks for them before the first bar), and its signals at
a range of bars, asked in order either flat or holding a position entered a few bars
earlier. A fresh instance for every history matters: a strategy that fits something on the
first history it sees would otherwise carry the full history into every truncated one.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from tradebot.domain.decisions import Signal
from tradebot.domain.errors import LookaheadError, StrategyError
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, IndexArray, Strategy
from tradebot.strategy.horizon import ask_signal, probe_upto

StrategySource = Strategy | Callable[[], Strategy]
"""A strategy to check: a factory of fresh instances, or a pristine instance to copy."""

Ask = Callable[[Strategy, Bars, int, Position | None], Signal]


@dataclass(frozen=True, slots=True)
class Holding:
    """Flat (``lag`` None) or holding a position entered ``lag`` bars before the asked bar."""

    lag: int | None

    @property
    def label(self) -> str:
        """How reports name it."""
        if self.lag is None:
            return "flat"
        return f"holding since {self.lag} bar{'s' if self.lag != 1 else ''}"

    def position(self, bars: Bars, i: int) -> Position | None:
        """One unit bought at the close of bar ``i - lag`` (bar 0 when earlier)."""
        if self.lag is None:
            return None
        entry = max(i - self.lag, 0)
        price = Decimal(repr(float(bars["close"][entry])))
        ts = int(bars.ts_ms[entry])
        return Position("CHECK/USDT", "CHECK", "USDT", Decimal(1), price, opened_ts_ms=ts)


HOLDINGS = (Holding(None), Holding(1), Holding(5), Holding(20))
"""Flat, and holding positions entered 1, 5 and 20 bars before each asked bar."""


@dataclass(slots=True)
class Trial:
    """What one fresh instance computed on one history."""

    bars: Bars
    candidates: IndexArray | None
    start: int
    signals: dict[Holding, list[str]] = field(default_factory=dict)
    reads: list[tuple[Holding, LookaheadError]] = field(default_factory=list)
    stateful: bool = False


def strategy_factory(source: StrategySource) -> Callable[[], Strategy]:
    """Fresh instances: the factory itself, or deep copies of a pristine instance."""
    if isinstance(source, Strategy):
        pristine = copy.deepcopy(source)
        return lambda: copy.deepcopy(pristine)
    return source


def indicators(strategy: Strategy, candles: pd.DataFrame) -> Bars:
    """The strategy's indicator bars on ``candles``.

    Raises:
        StrategyError: ``calculate_indicators`` raised; the message says on how many bars.
    """
    try:
        frame = strategy.calculate_indicators(candles.copy())
    except Exception as e:  # strategy barrier: report whose code failed, on how many bars
        msg = f"{strategy.name}.calculate_indicators raised on {len(candles)} bars: {e!r}"
        raise StrategyError(msg) from e
    return Bars.from_frame(frame)


def run_trial(
    factory: Callable[[], Strategy],
    candles: pd.DataFrame,
    holdings: tuple[Holding, ...],
    start: int,
    *,
    full: bool,
    stateful: bool,
) -> Trial:
    """Signals at bars ``start..`` of ``candles`` for each holding, as the engine asks.

    ``full`` marks the whole history: a failing signal is diagnosed (a read past the bar is
    recorded in ``reads``) and any other error is fatal; on a cut history an error is a
    signal value (``raised IndexError``) to compare. A ``stateful`` strategy gets a fresh
    instance per holding, asked from bar 0, so its state evolves as it did in the full run.

    Raises:
        StrategyError: the strategy raised, in ``calculate_indicators`` or (``full``) when
            asked for a signal.
    """
    ask: Ask = ask_signal if full else _ask_view
    strategy = factory()
    bars = indicators(strategy, candles)
    trial = Trial(bars, _candidates(strategy, bars), start)
    for n, holding in enumerate(holdings):
        if stateful and n > 0:
            strategy = factory()
            _candidates(strategy, indicators(strategy, candles))
        before = _state(strategy)
        first = 0 if stateful else start
        actions = _signals(strategy, bars, holding, first, ask, trial, strict=full)
        trial.signals[holding] = actions[start - first :]
        trial.stateful = trial.stateful or before is None or before != _state(strategy)
    return trial


def probe_reads(
    factory: Callable[[], Strategy], candles: pd.DataFrame, holdings: tuple[Holding, ...]
) -> list[tuple[Holding, LookaheadError]]:
    """Every read past the asked bar, on full-length arrays (``horizon.probe_upto``).

    A fresh instance per holding is asked at every bar; what it returns is ignored (the
    probe's ``len()`` is not the view's) and so is any error other than a read of the future.

    Raises:
        StrategyError: ``calculate_indicators`` or ``signal_candidates`` raised.
    """
    reads: list[tuple[Holding, LookaheadError]] = []
    for holding in holdings:
        strategy = factory()
        bars = indicators(strategy, candles)
        _candidates(strategy, bars)
        for i in range(bars.n_bars):
            probe = probe_upto(bars, i, strategy.name)
            try:
                strategy.generate_signals(probe, i, holding.position(bars, i))
            except LookaheadError as peek:
                reads.append((holding, peek))
            except Exception:  # noqa: S112 (strategy barrier: the probe's other errors do not count)
                continue
    return reads


def _ask_view(strategy: Strategy, bars: Bars, i: int, position: Position | None) -> Signal:
    return strategy.generate_signals(bars.upto(i), i, position)


def _candidates(strategy: Strategy, bars: Bars) -> IndexArray | None:
    try:
        found = strategy.signal_candidates(bars)
    except Exception as e:  # strategy barrier
        msg = f"{strategy.name}.signal_candidates raised on {bars.n_bars} bars: {e!r}"
        raise StrategyError(msg) from e
    return None if found is None else np.unique(np.asarray(found, dtype=np.int64))


def _signals(
    strategy: Strategy,
    bars: Bars,
    holding: Holding,
    start: int,
    ask: Ask,
    trial: Trial,
    *,
    strict: bool,
) -> list[str]:
    actions: list[str] = []
    for i in range(start, bars.n_bars):
        try:
            actions.append(str(ask(strategy, bars, i, holding.position(bars, i)).action))
        except LookaheadError as peek:
            trial.reads.append((holding, peek))
            actions.append(f"read {peek.column}[{peek.bar}]")
        except Exception as e:  # strategy barrier: a cut history may make a peek raise
            if strict:
                msg = f"{strategy.name}.generate_signals raised at bar {i} ({holding.label}): {e!r}"
                raise StrategyError(msg) from e
            actions.append(f"raised {type(e).__name__}")
    return actions


def _state(strategy: Strategy) -> bytes | None:
    # The instance's attributes as bytes, to tell whether asking for signals changed them;
    # None when they cannot be pickled (then the strategy is treated as stateful).
    try:
        return pickle.dumps(strategy)
    except Exception:  # any pickling failure: unknown, so assume state
        return None
