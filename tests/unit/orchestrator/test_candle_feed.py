"""StreamedCandles: the candles a stream vouches for are those before the bar it shows
forming and closed by the venue's clock, with no hole; otherwise REST is asked (None)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tradebot.domain.market import Candle
from tradebot.orchestrator.candle_feed import StreamedCandles

BAR = 60_000
SYMBOL = "BTC/USDT"


class Stream:
    """The venue's kline stream (the one call the feed makes): the candles the test pushes;
    ``drained`` is set once the feed has taken them all and asks for the next."""

    def __init__(self) -> None:
        self.pushed: asyncio.Queue[Candle] = asyncio.Queue()
        self.drained = asyncio.Event()

    async def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        while True:
            if self.pushed.empty():
                self.drained.set()
            yield await self.pushed.get()


def _candle(index: int) -> Candle:
    return Candle(index * BAR, 100.0 + index, 101.0, 99.0, 100.0, 1.0)


async def _feed(seeded: range, streamed: list[int]) -> StreamedCandles:
    stream = Stream()
    feed = StreamedCandles(stream, [SYMBOL], "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    feed.seed(SYMBOL, [_candle(i) for i in seeded])
    for index in streamed:
        stream.pushed.put_nowait(_candle(index))
    await stream.drained.wait()
    assert feed.forming(SYMBOL) == streamed[-1] * BAR
    return feed


async def test_candle_feed_vouches_for_the_bars_before_the_one_forming_closed_by_now() -> None:
    # Arrange: 90..97 fetched over REST, 98, 99 and 100 shown by the stream (100 forming)
    feed = await _feed(range(90, 98), [98, 99, 100])
    try:
        # Act / Assert: every bar before the one forming, once the clock is past its close
        closed = feed.closed(SYMBOL, 100 * BAR + 1_000) or []
        assert [c.ts_ms // BAR for c in closed] == list(range(90, 100))
        assert closed[-1] == _candle(99)
        # a clock not yet past 99's close (a venue clock behind the stream) leaves it out
        closed = feed.closed(SYMBOL, 100 * BAR - 1) or []
        assert [c.ts_ms // BAR for c in closed] == list(range(90, 99))
    finally:
        await feed.close()


async def test_candle_feed_with_a_bar_missed_asks_rest() -> None:
    # Arrange: the stream never showed 96 (a reconnect), then 97..100
    feed = await _feed(range(90, 96), [97, 98, 99, 100])
    try:
        # Act / Assert: a hole in the window: REST says whether the venue has the bar
        assert feed.closed(SYMBOL, 101 * BAR) is None
    finally:
        await feed.close()


async def test_candle_feed_before_the_stream_shows_a_bar_asks_rest() -> None:
    stream = Stream()
    feed = StreamedCandles(stream, [SYMBOL], "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    try:
        feed.seed(SYMBOL, [_candle(i) for i in range(90, 98)])
        assert feed.closed(SYMBOL, 101 * BAR) is None  # nothing shown since the seed
    finally:
        await feed.close()
