"""Each symbol's newest closed candles, kept between polls so a poll fetches only the new ones.

A poll used to fetch the whole window (400 and more candles) every time, and parsing them
(CCXT's lists, then domain Candles) was the largest part of the bot's work between a bar's
close and its order. The window is kept here instead; a poll asks the venue for its newest
few candles, the newest one kept among them so the two overlap (the venue's newest answer
wins where they do), and the window holds what a fetch of the whole window would return.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import islice
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from tradebot.domain.market import Candle, timeframe_to_ms
from tradebot.exchange.port import ExchangeConnector
from tradebot.strategy.base import OHLCV_COLUMNS, Bars

if TYPE_CHECKING:
    from tradebot.orchestrator.candle_feed import StreamedCandles

MAX_FETCH = 1000
"""The most candles one request returns (Binance's klines limit)."""


class CandleWindow:
    """The newest ``size`` closed candles of one symbol, oldest first."""

    def __init__(self, size: int, bar_ms: int) -> None:
        """Keep ``size`` candles of ``bar_ms`` each."""
        self.size = size
        self.bar_ms = bar_ms
        self._candles: deque[Candle] = deque(maxlen=size)
        self._carried: tuple[list[Candle], Bars] | None = None
        """The candles ``bars`` was last asked for, and their bars."""

    @property
    def full_limit(self) -> int:
        """How many candles a fetch of the whole window asks for: the window, the bar still
        forming and one spare."""
        return min(MAX_FETCH, self.size + 1)

    @property
    def limit(self) -> int:
        """How many of the newest candles a poll asks for: the newest kept again (the
        overlap), one closed since and the one forming; the whole window while none is kept.

        Not worked out from the venue's clock: a replaying sandbox's clock is the wall
        clock, years after its candles. When more bars closed (a pause, an outage), the
        answer does not reach back to the newest kept, and the whole window is fetched.
        """
        return min(self.full_limit, 3) if self._candles else self.full_limit

    def replace(self, closed: list[Candle]) -> list[Candle]:
        """Keep the closed candles of a fetch of the whole window; return the window."""
        self._candles.clear()
        self._candles.extend(closed)
        return list(self._candles)

    def join(self, closed: list[Candle]) -> list[Candle] | None:
        """Add the closed candles of a fetch of ``limit`` candles; return the window.

        None when they do not reach back to the newest candle kept (the venue returned
        fewer than asked) and so cannot be joined to it: fetch the whole window then.
        """
        kept = self._candles
        if closed:
            first = closed[0].ts_ms
            if not kept or first > kept[-1].ts_ms:
                return None
            while kept and kept[-1].ts_ms >= first:
                kept.pop()  # the venue's newest answer replaces the overlap
            kept.extend(closed)
        return list(kept)

    def bars(self, window: Sequence[Candle]) -> Bars:
        """``window`` (the candles to decide on) as ``candle_bars`` gives them, carried on
        from the last window asked: when its candles are the same candle objects from some
        point of the last one on, only the candles added since are read, and each column is
        the last one's tail and theirs (reading every candle cost the cycle 84 us of a
        window of 401, the carry about a fifth of that). The arrays are read-only, since the
        next window is made from them."""
        candles, carried = list(window), self._carried
        bars = None if carried is None else _carry(*carried, candles)
        if bars is None:
            bars = candle_bars(candles)
        for column in (bars.ts_ms, *bars.values()):
            column.flags.writeable = False
        self._carried = (candles, bars)
        return bars


def _carry(last: list[Candle], bars: Bars, candles: list[Candle]) -> Bars | None:
    """The bars of ``candles`` from ``last``'s (None when ``candles`` do not go on from a
    candle of ``last`` with the same candles: the same objects but for the newest, which a
    poll's answer replaces with an equal one)."""
    if not candles or not last:
        return None
    first = candles[0]
    start = next((k for k, c in enumerate(last) if c is first), None)
    if start is None:
        return None
    kept = len(last) - start
    if kept > len(candles) or list(islice(last, start, None)) != candles[:kept]:
        return None
    added = candles[kept:]
    tail = candle_bars(added) if added else None
    columns = {
        name: column[start:] if tail is None else np.concatenate((column[start:], tail[name]))
        for name, column in bars.items()
    }
    ts_ms = bars.ts_ms[start:] if tail is None else np.concatenate((bars.ts_ms[start:], tail.ts_ms))
    return Bars(ts_ms, columns)


def candle_bars(candles: Sequence[Candle]) -> Bars:
    """A window's candles as the bars a strategy's indicators are computed on: the columns
    of ``candles_to_frame`` without the frame (building it cost the live cycle a third of a
    millisecond before the order could go out). Each column is read straight into its
    array (a table of rows copied out by column took a third longer, 113 -> 84 us for 401)."""
    n = len(candles)
    ts_ms = np.fromiter(map(_TS_MS, candles), np.int64, n)
    columns = {name: np.fromiter(map(get, candles), np.float64, n) for name, get in _OHLCV}
    return Bars(ts_ms, columns)


_TS_MS = attrgetter("ts_ms")
_OHLCV = tuple((name, attrgetter(name)) for name in OHLCV_COLUMNS)


def closed_after(closed: list[Candle], last_ts_ms: int | None) -> list[Candle]:
    """The candles of ``closed`` (oldest first) that opened after ``last_ts_ms`` (every one
    when None), found from the newest back: a poll finds one or two among the window's
    hundreds, and a filter over the whole window cost it tens of microseconds."""
    start = len(closed)
    while start and (last_ts_ms is None or closed[start - 1].ts_ms > last_ts_ms):
        start -= 1
    return closed[start:]


async def read_closed(
    connector: ExchangeConnector,
    window: CandleWindow,
    feed: StreamedCandles | None,
    symbol: str,
    timeframe: str,
    now: int,
) -> list[Candle]:
    """``symbol``'s candles that have closed by the venue's clock ``now``: never the last
    one a venue returns, which is the bar still forming (Binance always includes it),
    nor any whose close is still ahead of the venue's clock. From the streams when they
    vouch for them, else over REST, where only the newest few candles are fetched when
    they join the ``window`` kept."""
    streamed = None if feed is None else feed.closed(symbol)
    if streamed is not None:
        return streamed[-window.size :]
    closed = None
    if window.limit < window.full_limit:
        closed = window.join(await closed_candles(connector, symbol, timeframe, now, window.limit))
    if closed is None:
        fetched = await closed_candles(connector, symbol, timeframe, now, window.full_limit)
        closed = window.replace(fetched)
    if feed is not None:
        feed.seed(symbol, closed)
    return closed


async def closed_candles(
    connector: ExchangeConnector, symbol: str, timeframe: str, now: int, limit: int
) -> list[Candle]:
    """``symbol``'s newest candles (of ``limit`` asked) that have closed by the venue's clock
    ``now``: never the last one a venue returns, which is the bar still forming (Binance
    always includes it), nor any whose close is still ahead of the venue's clock. The one
    rule of "closed" for the single process and the market-data service alike."""
    bar_ms = timeframe_to_ms(timeframe)
    candles = await connector.fetch_ohlcv(symbol, timeframe, limit=limit)
    return [c for c in candles[:-1] if c.ts_ms + bar_ms <= now]
