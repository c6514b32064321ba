"""What a strategy can see at the close of bar ``i``: bars ``0..i``, and nothing after.

``ask_signal`` is how every caller asks a strategy for a signal (the engine in backtests,
paper and live alike; the lookahead check). It hands the strategy ``bars.upto(i)``: numpy
views that end at bar ``i``, so the future is not there to read and the cost is one slice
per column read. When the strategy raises, the call is repeated on guarded arrays that know
which column and which bar a read reached for; that turns the bare IndexError of a peek into
a LookaheadError naming the strategy, the column and the bar.

The guarded arrays (``guarded_upto``) are slower (a Python check per read) and stricter:
they also refuse a slice that reaches past bar ``i`` (``close[i - 2 : i + 2]``), which a
plain view silently shortens. ``probe_upto`` goes one step further for the lookahead check:
full-length guarded arrays, so code that reads bar ``i + 1`` only when ``len()`` says it
exists (and under the view never runs) is named too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, SupportsIndex

import numpy as np
import numpy.typing as npt

from tradebot.domain.decisions import Signal
from tradebot.domain.errors import LookaheadError
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy


def ask_signal(strategy: Strategy, bars: Bars, i: int, position: Position | None) -> Signal:
    """The strategy's signal at the close of bar ``i``, from a view of bars ``0..i``.

    Raises:
        LookaheadError: the strategy failed because it read a bar after ``i``.
        Exception: whatever else the strategy raised, unchanged (the caller's barrier
            wraps it).
    """
    try:
        return strategy.generate_signals(bars.upto(i), i, position)
    except Exception as exc:  # the strategy barrier: was the failure a read of the future?
        peek = find_peek(strategy, bars, i, position)
        if peek is None:
            raise
        raise peek from exc


def ask_signal_guarded(strategy: Strategy, bars: Bars, i: int, position: Position | None) -> Signal:
    """Like ``ask_signal``, on guarded arrays: also a slice past bar ``i`` raises.

    Raises:
        LookaheadError: the strategy read (or sliced up to) a bar after ``i``.
    """
    return strategy.generate_signals(guarded_upto(bars, i, strategy.name), i, position)


def find_peek(
    strategy: Strategy, bars: Bars, i: int, position: Position | None
) -> LookaheadError | None:
    """Repeat the call on guarded arrays and return the LookaheadError of a read past ``i``.

    None when the repeated call reads nothing after bar ``i`` (then the strategy's own
    error stands). A stateful strategy runs twice for this bar, which is harmless on the
    way to stopping with an error.
    """
    try:
        ask_signal_guarded(strategy, bars, i, position)
    except LookaheadError as peek:
        return peek
    except Exception:  # the strategy's own error: the caller reports the original
        return None
    return None


def guarded_upto(bars: Bars, i: int, strategy: str) -> Bars:
    """Bars ``0..i`` whose arrays raise LookaheadError on any read or slice past bar ``i``."""
    horizon = _Horizon(strategy, i, np.asarray(bars.ts_ms, dtype=np.int64))
    stop = i + 1
    columns = {name: _Guarded.wrap(bars[name][:stop], name, horizon) for name in bars}
    return Bars(_Guarded.wrap(horizon.ts_ms[:stop], "ts_ms", horizon), columns)


def probe_upto(bars: Bars, i: int, strategy: str) -> Bars:
    """All bars, as guarded arrays that raise LookaheadError on a read or slice past bar ``i``.

    ``len()`` is the full history's, as it was before strategies got a view: a peek guarded
    by ``if i + 1 < len(close)`` runs and is named. Negative indices and open-ended slices
    are not checked (they mean the newest bar under the view), so the probe's signals are
    not the strategy's; only its reads count.
    """
    horizon = _Horizon(strategy, i, np.asarray(bars.ts_ms, dtype=np.int64))
    columns = {name: _Guarded.wrap(bars[name], name, horizon) for name in bars}
    return Bars(_Guarded.wrap(horizon.ts_ms, "ts_ms", horizon), columns)


@dataclass(frozen=True, slots=True)
class _Horizon:
    # Who is deciding at which bar, and the timestamps to name the bar that was read.
    strategy: str
    at_bar: int
    ts_ms: npt.NDArray[np.int64]

    def refuse(self, column: str, bar: int) -> LookaheadError:
        return LookaheadError(self.strategy, column, bar, self.at_bar, self._time_of(bar))

    def _time_of(self, bar: int) -> str:
        ts = self.ts_ms
        if bar < len(ts):
            ts_ms = int(ts[bar])
        elif len(ts) >= 2:  # a bar after the data (live): extrapolate one bar length on
            ts_ms = int(ts[-1]) + (bar - len(ts) + 1) * int(ts[-1] - ts[-2])
        else:
            return ""
        return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


class _Guarded(np.ndarray[Any, np.dtype[Any]]):
    # A column that names any read past bar ``at_bar`` (its end, or within a full-length
    # probe). Prefix slices and element-wise results keep the guard (their index is still
    # the bar); other slices become plain arrays.
    _column: str
    _horizon: _Horizon | None

    @classmethod
    def wrap(cls, values: npt.NDArray[Any], column: str, horizon: _Horizon) -> _Guarded:
        guarded = values.view(cls)
        guarded._column = column
        guarded._horizon = horizon
        return guarded

    def __array_finalize__(self, obj: object) -> None:
        same = isinstance(obj, _Guarded) and obj.shape == self.shape
        self._column = getattr(obj, "_column", "") if same else ""
        self._horizon = getattr(obj, "_horizon", None) if same else None

    def __getitem__(self, key: Any) -> Any:
        horizon = self._horizon
        if horizon is None:
            return super().__getitem__(key)
        bar = _future_bar(key, horizon.at_bar + 1)
        if bar is not None:
            raise horizon.refuse(self._column, bar)
        found = super().__getitem__(key)
        if isinstance(key, slice) and key.start in (None, 0) and key.step in (None, 1):
            return found
        return found.view(np.ndarray) if isinstance(found, np.ndarray) else found


def _future_bar(key: Any, length: int) -> int | None:
    # The first bar at or after ``length`` that ``key`` reaches for, else None.
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if isinstance(key, slice):
        return _slice_future_bar(key, length)
    if isinstance(key, int | np.integer):
        return int(key) if int(key) >= length else None
    if isinstance(key, list | np.ndarray):
        index = np.asarray(key)
        if index.dtype.kind in "iu" and index.size and int(index.max()) >= length:
            return int(index.max())
    return None


def _slice_future_bar(key: slice, length: int) -> int | None:
    if key.step is not None and _as_int(key.step) < 0:
        return None
    start = 0 if key.start is None else _as_int(key.start)
    stop = length if key.stop is None else _as_int(key.stop)
    if start >= length and (key.stop is None or stop > start):
        return start
    if stop > length:
        return length
    return None


def _as_int(value: SupportsIndex) -> int:
    return value.__index__()
