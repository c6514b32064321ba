"""Historical candles the sandbox replays (the path walked inside a bar is domain/fills.py's)."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradebot.domain.errors import DataError

_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
_UNITS = (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000))


@dataclass(frozen=True, slots=True)
class Bar:
    """One replayed candle; ``ts_ms`` is its open time."""

    ts_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def load_bars(path: Path) -> list[Bar]:
    """Read a normalized candle file (gzip or plain CSV).

    Raises:
        DataError: the file is missing, has other columns, or is not ascending.
    """
    if not path.is_file():
        raise DataError(f"candle file {path} does not exist; pass SYMBOL=PATH of a CSV(.gz)")
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if raw[:2] == b"\x1f\x8b" else raw.decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    if header != _COLUMNS:
        raise DataError(f"{path}: header {header} is not {','.join(_COLUMNS)}")
    bars = [
        Bar(int(r[0]), Decimal(r[1]), Decimal(r[2]), Decimal(r[3]), Decimal(r[4]), Decimal(r[5]))
        for r in reader
        if r
    ]
    if len(bars) < 2:
        raise DataError(f"{path}: needs at least 2 candles to infer the timeframe")
    if any(b.ts_ms <= a.ts_ms for a, b in itertools.pairwise(bars)):
        raise DataError(f"{path}: timestamps are not strictly ascending")
    return bars


def timeframe_label(tf_ms: int) -> str:
    """Return the CCXT/Binance name of a bar length, e.g. ``60_000 -> "1m"``."""
    for unit, unit_ms in _UNITS:
        if tf_ms % unit_ms == 0:
            return f"{tf_ms // unit_ms}{unit}"
    raise DataError(f"bar length {tf_ms} ms is not a whole number of seconds")


@dataclass(slots=True)
class Series:
    """The bars of one symbol and where the clock is in them."""

    symbol: str
    bars: list[Bar]
    tf_ms: int
    _starts: list[int]

    @classmethod
    def from_bars(cls, symbol: str, bars: list[Bar], tf_ms: int | None = None) -> Series:
        """Build a series; without ``tf_ms`` the timeframe is the smallest gap between bars."""
        if tf_ms is None:
            tf_ms = min(b.ts_ms - a.ts_ms for a, b in itertools.pairwise(bars))
        return cls(symbol, bars, tf_ms, [b.ts_ms for b in bars])

    @property
    def timeframe(self) -> str:
        """The Binance interval name of the bars, e.g. ``1m``."""
        return timeframe_label(self.tf_ms)

    def index_at(self, now_ms: int) -> int:
        """Index of the bar open at ``now_ms`` (the last that opened), or -1 before the first."""
        return bisect_right(self._starts, now_ms) - 1

    def bars_between(self, start_ms: int, end_ms: int) -> list[Bar]:
        """Bars that opened in ``[start_ms, end_ms]``."""
        lo = bisect_right(self._starts, start_ms - 1)
        hi = bisect_right(self._starts, end_ms)
        return self.bars[lo:hi]

    def replace(self, index: int, bar: Bar) -> None:
        """Swap in a modified bar (a price shock) so klines show what trading saw."""
        self.bars[index] = bar

    def merge(self, bars: list[Bar], walked: int) -> None:
        """Take in a source's newer bars (mirror mode).

        A bar at index ``walked`` or later replaces the stored one (the bar standing open
        becomes the source's closed bar); a bar newer than the last is appended; the bars
        before ``walked`` have been walked and stay as they were.
        """
        for bar in bars:
            index = self.index_at(bar.ts_ms)
            if index >= 0 and self._starts[index] == bar.ts_ms:
                if index >= walked:
                    self.bars[index] = bar
            elif bar.ts_ms > self._starts[-1]:
                self.bars.append(bar)
                self._starts.append(bar.ts_ms)
