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

``AsyncMarketDataManager`` is the same cache for the asyncio shell: its fetch function is a
coroutine (``connector_fetcher`` turns any ``ExchangeConnector`` into one), and callers that
ask for the same series while a fetch is in flight share that one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from tradebot.data.frame import candles_to_frame
from tradebot.data.resample import align_higher_timeframe, resample
from tradebot.domain.errors import DataError
from tradebot.domain.market import Candle, timeframe_to_ms

CandleFetcher = Callable[[str, str, int, int], pd.DataFrame | Sequence[Candle]]
AsyncCandleFetcher = Callable[[str, str, int, int], Awaitable[pd.DataFrame | Sequence[Candle]]]
Clock = Callable[[], int]
PAGE_LIMIT = 1000
"""Candles per ``fetch_ohlcv`` request in ``connector_fetcher`` (Binance's maximum)."""


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


class _CandleCache:
    # what both managers share: entries, freshness, the closed-candle rule, resampling plans

    def __init__(
        self,
        clock: Clock,
        ttl_ms: int,
        max_entries: int,
        native_timeframes: Collection[str] | None,
    ) -> None:
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._max_entries = max_entries
        self._native = None if native_timeframes is None else tuple(native_timeframes)
        self._entries: dict[tuple[str, str], _Entry] = {}

    def invalidate(self, symbol: str | None = None, timeframe: str | None = None) -> None:
        """Forget cached entries (all, or those matching symbol and/or timeframe)."""
        for key in list(self._entries):
            if symbol in (None, key[0]) and timeframe in (None, key[1]):
                del self._entries[key]

    def _cached(self, key: tuple[str, str], limit: int, now_ms: int) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.limit < limit or not self._is_fresh(entry, key[1], now_ms):
            return None
        return entry

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

    def _request(self, timeframe: str, limit: int) -> tuple[str, int]:
        # which native timeframe to fetch, and how many of its bars
        base = self._base_timeframe(timeframe)
        if base == timeframe:
            return base, limit + 1  # one extra: the last fetched candle may still be forming
        ratio = timeframe_to_ms(timeframe) // timeframe_to_ms(base)
        return base, (limit + 1) * ratio

    def _shape(
        self, raw: pd.DataFrame | Sequence[Candle], timeframe: str, base: str, now_ms: int
    ) -> pd.DataFrame:
        # what a cache entry holds: the native frame, or the higher one built from its closed bars
        frame = _as_frame(raw)
        if base == timeframe:
            return frame
        return resample(_closed(frame, base, now_ms), timeframe, base)

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


class MarketDataManager(_CandleCache):
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
        super().__init__(clock, ttl_ms, max_entries, native_timeframes)
        self._fetch = fetch

    def get_candles(self, symbol: str, timeframe: str, limit: int = 100) -> pd.DataFrame:
        """The last ``limit`` closed candles (fewer if history is shorter), oldest first.

        Raises:
            DataError: the timeframe cannot be fetched or built from a native one.
        """
        now_ms = self._clock()
        key = (symbol, timeframe)
        entry = self._cached(key, limit, now_ms)
        if entry is None:
            base, count = self._request(timeframe, limit)
            frame = self._shape(self._fetch(symbol, base, count, now_ms), timeframe, base, now_ms)
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
        higher = self.get_candles(
            symbol, higher_timeframe, _higher_limit(timeframe, higher_timeframe, limit)
        )
        return align_higher_timeframe(lower, higher, higher_timeframe, timeframe)


class AsyncMarketDataManager(_CandleCache):
    """``MarketDataManager`` for the asyncio shell: the fetch is awaited, the rules are the same.

    Concurrent requests for one (symbol, timeframe) while its fetch is in flight wait for
    that fetch instead of sending their own (one request per series per refresh).
    """

    def __init__(
        self,
        fetch: AsyncCandleFetcher,
        clock: Clock,
        ttl_ms: int = 60_000,
        max_entries: int = 1000,
        native_timeframes: Collection[str] | None = None,
    ) -> None:
        super().__init__(clock, ttl_ms, max_entries, native_timeframes)
        self._fetch = fetch
        self._in_flight: dict[tuple[str, str, int], asyncio.Future[_Entry]] = {}

    async def get_candles(self, symbol: str, timeframe: str, limit: int = 100) -> pd.DataFrame:
        """The last ``limit`` closed candles (fewer if history is shorter), oldest first.

        Raises:
            DataError: the timeframe cannot be fetched or built from a native one.
            ExchangeError: the fetch failed (from the connector; nothing is cached).
        """
        now_ms = self._clock()
        key = (symbol, timeframe)
        entry = self._cached(key, limit, now_ms)
        if entry is None:
            flight = (symbol, timeframe, limit)
            pending = self._in_flight.get(flight)
            if pending is None:
                pending = asyncio.ensure_future(self._refresh(symbol, timeframe, limit, now_ms))
                self._in_flight[flight] = pending
                pending.add_done_callback(lambda _f: self._in_flight.pop(flight, None))
            entry = await asyncio.shield(pending)
        return _closed(entry.frame, timeframe, now_ms).tail(limit).reset_index(drop=True)

    async def higher_timeframe_view(
        self, symbol: str, timeframe: str, higher_timeframe: str, limit: int = 100
    ) -> pd.DataFrame:
        """As ``MarketDataManager.higher_timeframe_view``: only CLOSED higher bars are seen."""
        lower = await self.get_candles(symbol, timeframe, limit)
        higher_limit = _higher_limit(timeframe, higher_timeframe, limit)
        higher = await self.get_candles(symbol, higher_timeframe, higher_limit)
        return align_higher_timeframe(lower, higher, higher_timeframe, timeframe)

    async def _refresh(self, symbol: str, timeframe: str, limit: int, now_ms: int) -> _Entry:
        base, count = self._request(timeframe, limit)
        raw = await self._fetch(symbol, base, count, now_ms)
        entry = _Entry(self._shape(raw, timeframe, base, now_ms), now_ms, limit)
        self._remember((symbol, timeframe), entry)
        return entry


class OhlcvSource(Protocol):
    """The ``ExchangeConnector`` method ``connector_fetcher`` needs."""

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Candles oldest first; without ``since_ms`` the latest ``limit``."""
        ...


def connector_fetcher(source: OhlcvSource, page_limit: int = PAGE_LIMIT) -> AsyncCandleFetcher:
    """An ``AsyncCandleFetcher`` over a connector: the latest ``limit`` candles up to now.

    Up to ``page_limit`` candles take one request; more are paged forward from where the
    window starts (a 4h view built from 1m bars needs thousands).
    """

    async def fetch(symbol: str, timeframe: str, limit: int, now_ms: int) -> list[Candle]:
        if limit <= page_limit:
            return await source.fetch_ohlcv(symbol, timeframe, None, limit)
        step = timeframe_to_ms(timeframe)
        cursor = (now_ms // step - limit + 1) * step
        candles: list[Candle] = []
        while len(candles) < limit:
            page = await source.fetch_ohlcv(symbol, timeframe, cursor, page_limit)
            fresh = [c for c in page if c.ts_ms >= cursor]
            if not fresh:
                break
            candles += fresh
            cursor = fresh[-1].ts_ms + 1
        return candles[-limit:]

    return fetch


def _higher_limit(timeframe: str, higher_timeframe: str, limit: int) -> int:
    # enough higher bars to cover ``limit`` lower ones, plus the one still forming
    ratio = -(-timeframe_to_ms(timeframe) * limit // timeframe_to_ms(higher_timeframe))
    return ratio + 1


def _as_frame(candles: pd.DataFrame | Sequence[Candle]) -> pd.DataFrame:
    return candles if isinstance(candles, pd.DataFrame) else candles_to_frame(candles)


def _closed(frame: pd.DataFrame, timeframe: str, now_ms: int) -> pd.DataFrame:
    closes = frame["ts_ms"].to_numpy(np.int64) + timeframe_to_ms(timeframe)
    return frame.loc[closes <= now_ms].reset_index(drop=True)
