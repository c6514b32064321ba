"""The Strategy contract: vectorised causal indicators, then a per-bar signal on plain arrays.

Why two steps: a backtest computes indicators once over the whole history (numpy speed) and
asks for a signal bar by bar reading plain arrays; live trading runs the very same two calls
on a rolling window and asks about its last bar. Indicators must therefore be *causal*: the
value at bar ``i`` may depend only on bars ``0..i`` (``tradebot lookahead-check`` verifies it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradebot.domain.decisions import MetadataValue, Signal
from tradebot.domain.portfolio import Position

FloatArray: TypeAlias = npt.NDArray[np.float64]
IndexArray: TypeAlias = npt.NDArray[np.int64]
StrategyConfig = Mapping[str, MetadataValue]

OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")


class Bars(Mapping[str, FloatArray]):
    """Candles and indicator columns as float64 numpy arrays, plus ``ts_ms``.

    Reading ``bars["ema_fast"][i]`` costs nanoseconds; reading a pandas row costs
    microseconds, which is what makes per-bar backtests slow. A strategy is handed
    ``bars.upto(i)``: the same arrays cut after bar ``i``, so the future is not there to read.
    """

    __slots__ = ("_columns", "_view", "ts_ms")

    def __init__(self, ts_ms: IndexArray, columns: Mapping[str, FloatArray]) -> None:
        self.ts_ms = ts_ms
        self._columns = dict(columns)
        self._view: _BarsUpTo | None = None

    @classmethod
    def of(cls, candles: pd.DataFrame | Bars) -> Bars:
        """``candles`` as bars: a frame's columns (``from_frame``), or the bars themselves."""
        return candles if isinstance(candles, Bars) else cls.from_frame(candles)

    def to_frame(self) -> pd.DataFrame:
        """These bars as a frame with a ``ts_ms`` column (the arrays shared, not copied)."""
        return pd.DataFrame({"ts_ms": self.ts_ms, **self._columns}, copy=False)

    def with_columns(self, columns: Mapping[str, FloatArray]) -> Bars:
        """These bars with ``columns`` added (the arrays shared, not copied)."""
        return Bars(self.ts_ms, {**self._columns, **columns})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Bars:
        """Take every numeric column of ``frame``; ``ts_ms`` comes from the column or index."""
        if "ts_ms" in frame.columns:
            ts = frame["ts_ms"].to_numpy(dtype=np.int64)
        else:
            ts = frame.index.to_numpy(dtype=np.int64)
        cols = {
            str(name): frame[name].to_numpy(dtype=np.float64)
            for name in frame.columns
            if name != "ts_ms" and pd.api.types.is_numeric_dtype(frame[name])
        }
        return cls(ts, cols)

    def __getitem__(self, name: str) -> FloatArray:
        return self._columns[name]

    def at(self, name: str, i: int) -> float:
        """Column ``name`` at bar ``i`` (``-1``: the last bar) as a Python float.

        The cheap read for a per-bar decision: ``bars["ema_fast"][i]`` makes a numpy view
        and a numpy scalar, this neither (a third of the built-in strategies' time at a
        signal). Reading past the bar being decided raises IndexError, as the view does.
        """
        return float(self._columns[name][i])

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.ts_ms)

    def row(self, i: int) -> BarRow:
        """Every column's value at bar ``i`` (for the decision log), read when asked."""
        return BarRow(self._columns, i)

    def select(self, columns: Mapping[str, str]) -> Bars:
        """The columns ``columns`` maps to, under its keys: the same arrays (no copy), ending
        where these bars end. What a member of an ensemble sees of the ensemble's bars."""
        return Bars(self.ts_ms, {new: self._columns[old] for new, old in columns.items()})

    def upto(self, i: int) -> Bars:
        """Bars ``0..i`` as views of the same arrays (no copy): what a signal at ``i`` may read.

        Each column read costs one numpy slice. ``len(view["close"]) == i + 1``, index ``-1``
        is bar ``i`` (as in live trading, where bar ``i`` is the newest), and reading bar
        ``i + 1`` raises IndexError, which ``ask_signal`` turns into a LookaheadError. The
        one view object is moved on at each call (a view kept by a strategy ends at the bar
        being decided, never later): a hot path that allocates nothing.
        """
        view = self._view
        if view is None:
            view = self._view = _BarsUpTo(self._columns, self.ts_ms)
        view._stop = i + 1
        return view


def number_view(values: npt.NDArray[np.generic], dtype: type[np.generic]) -> memoryview:
    """``values`` as a memoryview indexing to Python numbers: several times faster to read
    one at a time than numpy scalars, and no copy when they are contiguous and of ``dtype``
    already (the engine's and the backtester's per-visit reads)."""
    return np.ascontiguousarray(values, dtype=dtype).data


class BarRow(Mapping[str, float]):
    """The values of every column at one bar, read from the columns when asked.

    A decision records the indicators of its bar; a dict of them per decision was the
    largest part of what a long backtest kept in memory (58,450 decisions on the 2,059,120
    1m bars of BTC). The columns are never written after they were computed, so reading
    them later gives the values of the decision's bar. Pickled, it is a plain dict.
    """

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: Mapping[str, FloatArray], i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, name: str) -> float:
        return float(self._columns[name][self._i])

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self) -> tuple[type[dict[str, float]], tuple[dict[str, float]]]:
        return dict, (dict(self),)


class _BarsUpTo(Bars):
    # The bounded view ``Bars.upto`` returns; it shares the full arrays and slices on read
    # (``ts_ms`` too, so a strategy that never reads it never pays for its slice).
    __slots__ = ("_all_ts_ms", "_numbers", "_stop")

    def __init__(self, columns: dict[str, FloatArray], ts_ms: IndexArray) -> None:
        self._columns = columns  # shared, not copied
        self._all_ts_ms = ts_ms
        self._stop = len(ts_ms)
        self._view = None
        # each column read by ``at``, as a memoryview indexing to Python floats (no copy)
        self._numbers: dict[str, Sequence[float]] = {}

    @property
    def ts_ms(self) -> IndexArray:
        return self._all_ts_ms[: self._stop]

    @ts_ms.setter
    def ts_ms(self, value: IndexArray) -> None:
        self._all_ts_ms = value

    def __getitem__(self, name: str) -> FloatArray:
        return self._columns[name][: self._stop]

    def at(self, name: str, i: int) -> float:
        at = i + self._stop if i < 0 else i
        if not 0 <= at < self._stop:
            raise IndexError(f"bar {i} is outside bars 0..{self._stop - 1}")
        numbers = self._numbers.get(name)
        if numbers is None:
            column = self._columns[name]
            if column.dtype != np.float64 or not column.flags.c_contiguous:
                return float(column[at])  # not kept: a memoryview of it would be a copy
            numbers = self._numbers[name] = column.data
        return numbers[at]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Pickled and copied without the memoryviews ``at`` keeps (they cannot be pickled;
        # a read makes them again).
        return _view_of, (self._columns, self._all_ts_ms, self._stop)

    def row(self, i: int) -> BarRow:
        # Bar ``i`` of the view (``-1``: the bar being decided); past it is the future.
        at = i + self._stop if i < 0 else i
        if not 0 <= at < self._stop:
            raise IndexError(f"bar {i} is outside bars 0..{self._stop - 1}")
        return BarRow(self._columns, at)

    def select(self, columns: Mapping[str, str]) -> Bars:
        # Still bounded at the bar being decided.
        view = _BarsUpTo({new: self._columns[old] for new, old in columns.items()}, self._all_ts_ms)
        view._stop = self._stop
        return view

    def upto(self, i: int) -> Bars:
        # A view of a view (an ensemble handing a member fewer bars) is a new object.
        if i >= self._stop:
            msg = f"bars end at {self._stop - 1}, cannot view up to {i}"
            raise IndexError(msg)
        view = _BarsUpTo(self._columns, self._all_ts_ms)
        view._stop = i + 1
        return view


def _view_of(columns: dict[str, FloatArray], ts_ms: IndexArray, stop: int) -> _BarsUpTo:
    """A bounded view made again (``_BarsUpTo.__reduce__``)."""
    view = _BarsUpTo(columns, ts_ms)
    view._stop = stop
    return view


class Strategy(ABC):
    """Base class of every strategy, built-in or the user's own.

    Subclasses set ``name``, take their parameters as keyword arguments, and implement the
    three abstract methods. They may override ``signal_candidates`` to tell the backtester
    which bars can possibly signal; the default (every bar) is always correct.
    """

    name: ClassVar[str] = "strategy"

    @property
    def warmup_bars(self) -> int:
        """Bars needed before the indicators are meaningful; signals before that are HOLD."""
        return 0

    @property
    def live_window_bars(self) -> int:
        """Candles live trading recomputes indicators on, so its signals equal a backtest's.

        A recursive indicator (EMA, Wilder) must run long enough to forget its seed; the
        default, ten times the warm-up and at least 300 bars, suits typical periods. The
        built-ins compute theirs exactly from their periods.
        """
        return max(10 * self.warmup_bars, 300)

    @abstractmethod
    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Return ``candles`` with indicator columns added. Must be causal and vectorised."""

    def indicator_bars(self, candles: pd.DataFrame | Bars) -> Bars:
        """The candles with the indicator columns of ``calculate_indicators``, as arrays:
        what the engine prepares a symbol's bars with (a backtest's history, a live window).

        The default goes through a frame. A strategy whose indicators are numpy functions
        of the candle columns overrides it to skip pandas: live trading recomputes them over
        its window at every close, before the order may go out, and building and copying
        frames cost more there than the indicators (``EmaCrossover``). An override must give
        the columns ``calculate_indicators`` adds, in the same order, with the same values.
        """
        frame = candles.to_frame() if isinstance(candles, Bars) else candles
        return Bars.from_frame(self.calculate_indicators(frame))

    @abstractmethod
    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """Return the signal at the close of bar ``i``, reading only bars ``0..i``.

        The engine hands over ``bars.upto(i)``: the arrays end at bar ``i`` (``[-1]`` is
        bar ``i``), and a read of a later bar raises LookaheadError.
        """

    @abstractmethod
    def get_config(self) -> StrategyConfig:
        """The strategy's parameters, for the decision log and reports."""

    def signal_candidates(self, bars: Bars) -> IndexArray | None:
        """Bars where ``generate_signals`` may return something other than HOLD.

        An accelerator for backtests: None (the default) means every bar is asked. An
        override must be a superset of the bars that signal; a test holds the built-ins to it.
        A backtest asks no other bar: it skips them, and at one it visits for an order's sake
        (a fill at the open, a stop inside the range) it takes HOLD unasked. It asks there only
        for a decision it records, and stops with a StrategyError if the answer is not HOLD.
        """
        return None


class ColumnStrategy(Strategy):
    """A strategy whose indicators are numpy functions of the candle columns.

    It names them once, in ``indicator_columns``; the frame a backtest or a research tool
    asks for (``calculate_indicators``) and the arrays the engine prepares (``indicator_bars``,
    no frame: what live trading recomputes at every close) are both made from it, so the
    two cannot disagree.
    """

    @abstractmethod
    def indicator_columns(self, bars: Bars) -> dict[str, FloatArray]:
        """The indicator columns to add, in order, computed from ``bars``' candle columns."""

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """``candles`` with the columns of ``indicator_columns`` added."""
        frame = candles.copy(deep=False)  # shares the candles (copy-on-write): no 2nd copy
        for name, values in self.indicator_columns(Bars.from_frame(candles)).items():
            frame[name] = values
        return frame

    def indicator_bars(self, candles: pd.DataFrame | Bars) -> Bars:
        """The candles' arrays with the columns of ``indicator_columns`` added."""
        bars = Bars.of(candles)
        return bars.with_columns(self.indicator_columns(bars))
