"""StreamedCandles: the candles a stream vouches for are those before the bar it shows
forming, with no hole; otherwise REST is asked (None). A poll is woken once per bar every
stream shows closed."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager

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


@asynccontextmanager
async def _following(*symbols: str) -> AsyncIterator[tuple[Stream, StreamedCandles]]:
    """A feed following ``symbols`` on a test stream (closed after)."""
    stream = Stream()
    feed = StreamedCandles(stream, list(symbols), "1m", keep=50)  # type: ignore[arg-type]
    feed.start()
    try:
        yield stream, feed
    finally:
        await feed.close()


async def _shown(
    stream: Stream, feed: StreamedCandles, symbols: tuple[str, ...], seeded: range, *shown: int
) -> None:
    """Each of ``symbols`` seeded over REST with ``seeded``, then ``shown`` on its stream."""
    for symbol in symbols:
        feed.seed(symbol, [_candle(i) for i in seeded])
        await stream.push(symbol, *shown)


async def _woken_once_both_show(
    stream: Stream, wake: Coroutine[object, object, None], index: int
) -> None:
    """Show ``index`` on BTC/USDT's stream, then ETH/USDT's: ``wake`` returns only then."""
    waiting = asyncio.ensure_future(wake)
    await stream.push("BTC/USDT", index)
    await asyncio.sleep(0)
    assert not waiting.done()
    await stream.push("ETH/USDT", index)
    await asyncio.wait_for(waiting, 1.0)


async def test_candle_feed_vouches_for_the_bars_before_the_one_forming() -> None:
    symbols = (SYMBOL,)
    async with _following(*symbols) as (stream, feed):
        # Arrange: 90..97 fetched over REST, 98, 99 and 100 shown by the stream (100 forming)
        await _shown(stream, feed, symbols, range(90, 98), 98, 99, 100)
        # Act
        closed = feed.closed(SYMBOL) or []
    # Assert: every bar before the one forming (the venue has opened 100: 99 has closed)
    assert [c.ts_ms // BAR for c in closed] == list(range(90, 100))
    assert closed[-1] == _candle(99)


async def test_candle_feed_with_a_bar_missed_asks_rest() -> None:
    symbols = (SYMBOL,)
    async with _following(*symbols) as (stream, feed):
        # Arrange: the stream never showed 96 (a reconnect), then 97..100
        await _shown(stream, feed, symbols, range(90, 96), 97, 98, 99, 100)
        # Act / Assert: a hole in the window: REST says whether the venue has the bar
        assert feed.closed(SYMBOL) is None


async def test_candle_feed_before_the_stream_shows_a_bar_asks_rest() -> None:
    async with _following(SYMBOL) as (_stream, feed):
        feed.seed(SYMBOL, [_candle(i) for i in range(90, 98)])
        assert feed.closed(SYMBOL) is None  # nothing shown since the seed


async def test_candle_feed_wakes_a_poll_once_every_stream_shows_a_bar_closed() -> None:
    symbols = ("BTC/USDT", "ETH/USDT")
    async with _following(*symbols) as (stream, feed):
        # Arrange: two markets seeded to 97 and showing 98 forming; 97 decided on both
        await _shown(stream, feed, symbols, range(90, 98), 98)
        decided = dict.fromkeys(symbols, 97 * BAR)  # the live loop's, moved by its polls
        # Act / Assert: 98 closes on one stream: no wake until the other shows it too
        await _woken_once_both_show(stream, feed.bars_closed(decided), 99)
        # a poll that could not decide 98 is not woken again for it: the next bar wakes it
        again = asyncio.ensure_future(feed.bars_closed(decided))
        await asyncio.sleep(0)
        assert not again.done()
        decided.update(dict.fromkeys(symbols, 98 * BAR))
        for symbol in symbols:
            await stream.push(symbol, 100)
        await asyncio.wait_for(again, 1.0)


async def test_candle_feed_market_with_no_bar_decided_holds_no_wake_back() -> None:
    symbols = ("BTC/USDT", "NEW/USDT")
    async with _following(*symbols) as (stream, feed):
        # Arrange: a market listed since the start has no bar decided yet
        await _shown(stream, feed, symbols, range(90, 98), 98)
        # Act: 98 closes on both
        woken = asyncio.ensure_future(feed.bars_closed({"BTC/USDT": 97 * BAR}))
        for symbol in symbols:
            await stream.push(symbol, 99)
        # Assert: the poll is woken for it
        await asyncio.wait_for(woken, 1.0)


async def test_candle_feed_waits_for_every_stream_to_show_the_newest_bar() -> None:
    symbols = ("BTC/USDT", "ETH/USDT")
    async with _following(*symbols) as (stream, feed):
        # Arrange: two markets, one decided a bar behind the other (its bar shown late)
        await _shown(stream, feed, symbols, range(90, 97), 97, 98)
        decided = {"BTC/USDT": 97 * BAR, "ETH/USDT": 96 * BAR}
        await asyncio.wait_for(feed.bars_closed(decided), 1.0)  # the poll for 98 (woken once)
        # Act / Assert: 99 opens on one stream: no poll before the other shows 99 too, so
        # 98 of both is one cycle
        await _woken_once_both_show(stream, feed.bars_closed(decided), 99)
