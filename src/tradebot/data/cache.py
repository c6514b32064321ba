"""MarketDataManager: cached candles, resampled higher timeframes, no lookahead.

The same code serves backtests and live trading; only the two injected functions differ:

* ``fetch(symbol, timeframe, limit, now_ms)`` returns recent candles (a candle frame or
  domain ``Candle`` values). Live, it calls the exchange; in a backtest ``FrameFetcher``
  serves a history frame up to ``now_ms``.
* ``clock()`` returns "now" in epoch ms: the wall clock live, the replay clock in a backtest.
  Nothing here reads the wall clock itself.

Only CLOSED candles are ever returned: a candle whose close (open + timeframe) is after
``clock()`` is still forming and is dropped, whatever the fetch function returned. A cache
entry lives ``ttl_ms`` and never past the close of the next candle, so a strategy cannot
miss a bar because of the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradebot.data.frame import candles_to_frame
from tradebot.data.resample import align_higher_timeframe, resample
from tradebot.domain.errors import DataError
from tradebot.domain.market import Candle, timeframe_to_ms

CandleFetcher = Callable[[str, str, int, int], pd.DataFrame | Sequence[Candle]]
Clock = Callable[[], int]


@dataclass(slots=True)
class _Entry:
    frame: pd.DataFrame
    fetched_ms: int
    limit: int


class FrameFetcher:
    """A ``CandleFetcher`` over history frames, for backtests: bars opened before ``now_ms``.

    ``frames`` maps (symbol, timeframe) to a sorted candle frame (from ``load_candles`` or
    ``CandleStore.read``).
    """

    def __init__(self, frames: Mapping[tuple[str, str], pd.DataFrame]) -> None:
        self._frames = dict(frames)

    def __call__(self, symbol: str, timeframe: str, limit: int, now_ms: int) -> pd.DataFrame:
        """The last ``limit`` bars that opened before ``now_ms``.

        Raises:
            DataError: no frame for (symbol, timeframe).
        """
        frame = self._frames.get((symbol, timeframe))
        if frame is None:
            have = ", ".join(f"{s} {t}" for s, t in self._frames) or "nothing"
            raise DataError(f"no {symbol} {timeframe} history loaded (have: {have})")
        end = int(np.searchsorted(frame["ts_ms"].to_numpy(np.int64), now_ms, side="left"))
        return frame.iloc[max(0, end - limit) : end].reset_index(drop=True)


class MarketDataManager:
    """TTL cache of closed candles by (symbol, timeframe), with derived higher timeframes.

    ``native_timeframes``: timeframes ``fetch`` serves. Others are built by resampling the
    largest native timeframe that divides them (None: every timeframe is fetched).
    """

    def __init__(
        self,
        fetch: CandleFetcher,
        clock: Clock,
        ttl_ms: int = 60_000,
        max_entries: int = 1000,
        native_timeframes: Collection[str] | None = None,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._max_entries = max_entries
        self._native = None if native_timeframes is None else tuple(native_timeframes)
        self._entries: dict[tuple[str, str], _Entry] = {}

    def get_candles(self, symbol: str, timeframe: str, limit: int = 100) -> pd.DataFrame:
        """The last ``limit`` closed candles (fewer if history is shorter), oldest first.

        Raises:
            DataError: the timeframe cannot be fetched or built from a native one.
        """
        now_ms = self._clock()
        key = (symbol, timeframe)
        entry = self._entries.get(key)
        if entry is None or entry.limit < limit or not self._is_fresh(entry, timeframe, now_ms):
            frame = self._load(symbol, timeframe, limit, now_ms)
            entry = _Entry(frame, now_ms, limit)
            self._remember(key, entry)
        return _closed(entry.frame, timeframe, now_ms).tail(limit).reset_index(drop=True)

    def higher_timeframe_view(
        self, symbol: str, timeframe: str, higher_timeframe: str, limit: int = 100
    ) -> pd.DataFrame:
        """``limit`` candles of ``timeframe`` with the last CLOSED ``higher_timeframe`` bar.

        Columns as ``align_higher_timeframe`` names them (``4h_close``...): each row sees
        only the higher bar that had closed by that row's close, never its own bin's.
        """
        lower = self.get_candles(symbol, timeframe, limit)
        ratio = -(-timeframe_to_ms(timeframe) * limit // timeframe_to_ms(higher_timeframe))
        higher = self.get_candles(symbol, higher_timeframe, ratio + 1)
        return align_higher_timeframe(lower, higher, higher_timeframe, timeframe)

    def invalidate(self, symbol: str | None = None, timeframe: str | None = None) -> None:
        """Forget cached entries (all, or those matching symbol and/or timeframe)."""
        for key in list(self._entries):
            if symbol in (None, key[0]) and timeframe in (None, key[1]):
                del self._entries[key]

    def _is_fresh(self, entry: _Entry, timeframe: str, now_ms: int) -> bool:
        if now_ms - entry.fetched_ms >= self._ttl_ms:
            return False
        # a bar that closed after the fetch must be fetched, whatever the TTL says
        step = timeframe_to_ms(timeframe)
        return now_ms < (entry.fetched_ms // step + 1) * step

    def _remember(self, key: tuple[str, str], entry: _Entry) -> None:
        self._entries.pop(key, None)
        self._entries[key] = entry
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]

    def _load(self, symbol: str, timeframe: str, limit: int, now_ms: int) -> pd.DataFrame:
        base = self._base_timeframe(timeframe)
        if base == timeframe:
            # one extra: the last fetched candle may still be forming
            return _as_frame(self._fetch(symbol, timeframe, limit + 1, now_ms))
        ratio = timeframe_to_ms(timeframe) // timeframe_to_ms(base)
        raw = _closed(
            _as_frame(self._fetch(symbol, base, (limit + 1) * ratio, now_ms)), base, now_ms
        )
        return resample(raw, timeframe, base)

    def _base_timeframe(self, timeframe: str) -> str:
        if self._native is None or timeframe in self._native:
            return timeframe
        target = timeframe_to_ms(timeframe)
        divisors = [tf for tf in self._native if target % timeframe_to_ms(tf) == 0]
        if not divisors:
            raise DataError(
                f"timeframe {timeframe} is neither served nor a multiple of one that is "
                f"({', '.join(self._native)})"
            )
        return max(divisors, key=timeframe_to_ms)


def _as_frame(candles: pd.DataFrame | Sequence[Candle]) -> pd.DataFrame:
    return candles if isinstance(candles, pd.DataFrame) else candles_to_frame(candles)


def _closed(frame: pd.DataFrame, timeframe: str, now_ms: int) -> pd.DataFrame:
    closes = frame["ts_ms"].to_numpy(np.int64) + timeframe_to_ms(timeframe)
    return frame.loc[closes <= now_ms].reset_index(drop=True)
