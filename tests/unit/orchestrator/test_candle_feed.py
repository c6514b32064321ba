"""StreamedCandles: the candles a stream vouches for are those before the bar it shows
forming, with no hole; otherwise REST is asked (None). A poll is woken once per bar every
stream shows closed."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from tradebot.domain.market import Candle
from tradebot.orchestrator.candle_feed import StreamedCandles

BAR = 60_000
SYMBOL = "BTC/USDT"


class Stream:
    """The venue's kline streams (the one call the feed makes): the candles the test pushes."""

    def __init__(self) -> None:
        self._pushed: defaultdict[str, asyncio.Queue[Candle]] = defaultdict(asyncio.Queue)
        self._drained: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def push(self, symbol: str, *indexes: int) -> None:
        """Show these bars on ``symbol``'s stream; return once the feed has taken them."""
        for index in indexes:
            self._pushed[symbol].put_nowait(_candle(index))
        self._drained[symbol].clear()
        await self._drained[symbol].wait()

    async def watch_candles(self, symbol: str, timeframe: str) -> AsyncIterator[Candle]:
        queue = self._pushed[symbol]
        while True:
            if queue.empty():
                self._drained[symbol].set()  # the feed asks for the next: it took them all
            yield await queue.get()


def _candle(index: int) -> Candle:
    return Candle(index * BAR, 100.0 + index, 101.0, 99.0, 100.0, 1.0)


async def _feed(seeded: range, streamed: list[int]) -> StreamedCandles:
    stream = Stream()
    feed = StreamedCandles(stream, [SYMBOL], "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    feed.seed(SYMBOL, [_candle(i) for i in seeded])
    await stream.push(SYMBOL, *streamed)
    assert feed.forming(SYMBOL) == streamed[-1] * BAR
    return feed


async def test_candle_feed_vouches_for_the_bars_before_the_one_forming() -> None:
    # Arrange: 90..97 fetched over REST, 98, 99 and 100 shown by the stream (100 forming)
    feed = await _feed(range(90, 98), [98, 99, 100])
    try:
        # Act
        closed = feed.closed(SYMBOL) or []
        # Assert: every bar before the one forming (the venue has opened 100: 99 has closed)
        assert [c.ts_ms // BAR for c in closed] == list(range(90, 100))
        assert closed[-1] == _candle(99)
    finally:
        await feed.close()


async def test_candle_feed_with_a_bar_missed_asks_rest() -> None:
    # Arrange: the stream never showed 96 (a reconnect), then 97..100
    feed = await _feed(range(90, 96), [97, 98, 99, 100])
    try:
        # Act / Assert: a hole in the window: REST says whether the venue has the bar
        assert feed.closed(SYMBOL) is None
    finally:
        await feed.close()


async def test_candle_feed_before_the_stream_shows_a_bar_asks_rest() -> None:
    stream = Stream()
    feed = StreamedCandles(stream, [SYMBOL], "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    try:
        feed.seed(SYMBOL, [_candle(i) for i in range(90, 98)])
        assert feed.closed(SYMBOL) is None  # nothing shown since the seed
    finally:
        await feed.close()


async def test_candle_feed_wakes_a_poll_once_every_stream_shows_a_bar_closed() -> None:
    # Arrange: two markets seeded to 97 and showing 98 forming; 97 decided on both
    stream, symbols = Stream(), ["BTC/USDT", "ETH/USDT"]
    feed = StreamedCandles(stream, symbols, "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    try:
        for symbol in symbols:
            feed.seed(symbol, [_candle(i) for i in range(90, 98)])
            await stream.push(symbol, 98)
        decided = dict.fromkeys(symbols, 97 * BAR)  # the live loop's dict, moved by its polls
        # Act / Assert: 98 closes on one stream: no wake until the other shows it too
        woken = asyncio.ensure_future(feed.bars_closed(decided))
        await stream.push("BTC/USDT", 99)
        await asyncio.sleep(0)
        assert not woken.done()
        await stream.push("ETH/USDT", 99)
        await asyncio.wait_for(woken, 1.0)
        # a poll that could not decide 98 is not woken again for it: the next bar wakes it
        again = asyncio.ensure_future(feed.bars_closed(decided))
        await asyncio.sleep(0)
        assert not again.done()
        decided.update(dict.fromkeys(symbols, 98 * BAR))
        for symbol in symbols:
            await stream.push(symbol, 100)
        await asyncio.wait_for(again, 1.0)
    finally:
        await feed.close()


async def test_candle_feed_market_with_no_bar_decided_holds_no_wake_back() -> None:
    # Arrange: a market listed since the start has no bar decided yet
    stream, symbols = Stream(), ["BTC/USDT", "NEW/USDT"]
    feed = StreamedCandles(stream, symbols, "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    try:
        feed.seed("BTC/USDT", [_candle(i) for i in range(90, 98)])
        feed.seed("NEW/USDT", [])
        for symbol in symbols:
            await stream.push(symbol, 98)
        # Act: 98 closes on both
        woken = asyncio.ensure_future(feed.bars_closed({"BTC/USDT": 97 * BAR}))
        for symbol in symbols:
            await stream.push(symbol, 99)
        # Assert: the poll is woken for it
        await asyncio.wait_for(woken, 1.0)
    finally:
        await feed.close()


async def test_candle_feed_waits_for_every_stream_to_show_the_newest_bar() -> None:
    # Arrange: two markets, one decided a bar behind the other (its last bar was shown late)
    stream, symbols = Stream(), ["BTC/USDT", "ETH/USDT"]
    feed = StreamedCandles(stream, symbols, "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    try:
        for symbol in symbols:
            feed.seed(symbol, [_candle(i) for i in range(90, 97)])
            await stream.push(symbol, 97, 98)
        decided = {"BTC/USDT": 97 * BAR, "ETH/USDT": 96 * BAR}
        await asyncio.wait_for(feed.bars_closed(decided), 1.0)  # the poll for 98 (woken once)
        # Act: 99 opens on one stream only
        woken = asyncio.ensure_future(feed.bars_closed(decided))
        await stream.push("BTC/USDT", 99)
        await asyncio.sleep(0)
        # Assert: no poll before the other stream shows 99 too, so 98 of both is one cycle
        assert not woken.done()
        await stream.push("ETH/USDT", 99)
        await asyncio.wait_for(woken, 1.0)
    finally:
        await feed.close()
