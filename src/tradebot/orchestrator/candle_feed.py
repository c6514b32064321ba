"""Each traded symbol's recent candles as the venue streams them, for the live shell.

One watch loop per symbol runs over the connector's candle stream (``CcxtConnector`` puts
every market stream on one websocket, so this is one connection for all symbols). The shell
asks ``closed(symbol, now)`` at each poll instead of fetching the window over REST, and falls
back to REST (then ``seed``s the feed with what it fetched) whenever the feed cannot vouch
for the window.

As REST's newest candle is the bar still forming (never decided), the newest candle the
stream has shown is taken as forming and every earlier one as closed: a bar's final update
comes before the next bar's first on the one connection, so once a newer bar is shown the
earlier ones are final. The bar that just closed is therefore decided once the stream shows
the next one (Binance pushes klines every 2 s), not before. The feed does not vouch while
the stream has shown nothing since the last seed, while the window has a hole (a bar the
stream missed, or the venue has none), or once the symbol's loop has ended (an error the
stream does not retry, such as a refused key). A connection that stalls without an error is
found by ccxt's keep-alive ping; the stream then polls REST until it is back (``stream.py``).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import Mapping, Sequence

import structlog

from tradebot.domain.market import Candle, timeframe_to_ms
from tradebot.exchange.port import ExchangeConnector

log = structlog.get_logger("tradebot.bot")


class StreamedCandles:
    """The newest ``keep`` candles of every symbol, kept current by the venue's streams."""

    def __init__(
        self, connector: ExchangeConnector, symbols: Sequence[str], timeframe: str, keep: int
    ) -> None:
        """Follow ``symbols``' ``timeframe`` candles through ``connector``; keep ``keep``."""
        self._connector = connector
        self._symbols = tuple(symbols)
        self._timeframe = timeframe
        self._bar_ms = timeframe_to_ms(timeframe)
        self._keep = keep
        self._bars: dict[str, dict[int, Candle]] = {s: {} for s in symbols}
        self._seeded: set[str] = set()
        self._forming: dict[str, int] = {}
        """The newest bar each stream has shown since its symbol's last seed."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._shown = asyncio.Event()
        """Set when a stream shows a newer bar (or ends): ``bars_closed`` looks again."""
        self._woken = -1
        """The bar every stream showed forming when ``bars_closed`` last returned."""

    def start(self) -> None:
        """Start one watch loop per symbol (call before the first ``seed``)."""
        for symbol in self._symbols:
            self._tasks[symbol] = asyncio.create_task(self._follow(symbol))

    async def close(self) -> None:
        """Stop every loop."""
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def seed(self, symbol: str, closed: Sequence[Candle]) -> None:
        """Adopt candles fetched over REST (closed ones only: their values are final)."""
        bars = self._bars[symbol]
        for candle in closed:
            bars[candle.ts_ms] = candle
        self._trim(bars)
        self._seeded.add(symbol)
        self._forming.pop(symbol, None)

    def forming(self, symbol: str) -> int | None:
        """Open time of the newest bar the stream has shown since the last seed (None: none,
        or the loop has ended)."""
        task = self._tasks.get(symbol)
        if symbol not in self._seeded or task is None or task.done():
            return None
        return self._forming.get(symbol)

    def closed(self, symbol: str) -> list[Candle] | None:
        """``symbol``'s closed candles, oldest first, or None when the stream cannot vouch
        for them (see the module docstring): ask REST then.

        Every bar before the one the stream shows forming has closed, whatever this
        machine's estimate of the venue's clock says: the venue opened that bar. (The
        estimate carried forward from the last poll lags the venue by a network trip, so
        a poll woken by the stream could otherwise miss the bar that woke it.)"""
        forming = self.forming(symbol)
        if forming is None:
            return None
        # Done on whole lists (a generator over the window's stamps cost the window a third
        # of a millisecond): the stamps before the one forming, and one step apart.
        bars, step = self._bars[symbol], self._bar_ms
        stamps = sorted(bars)
        stamps = stamps[: bisect.bisect_left(stamps, forming)]
        if stamps and stamps != list(range(stamps[0], stamps[-1] + 1, step)):
            return None  # a hole: REST says whether the venue has the bar
        return list(map(bars.__getitem__, stamps))

    async def bars_closed(self, decided: Mapping[str, int]) -> None:
        """Return once every stream that vouches for its symbol (one at least) shows the
        same newest bar, after the last one this returned for, and a symbol has a bar
        closed after its newest bar ``decided``: a real-time bot polls then, not only at
        its timer. Every stream at the same bar, so that a bar time is decided in one
        cycle for all (as the backtest does), even when one symbol's bar was shown late:
        a stream whose newest bar shows late holds the others back (the timer bounds it).
        A symbol whose stream cannot vouch is asked over REST by the poll and holds none
        back; one with no bar decided yet (listed since the start) counts as having one.
        Once per bar: a poll that could not decide it (REST behind the stream) waits for
        the next bar or the timer, not a loop."""
        step = self._bar_ms
        while True:
            shown = {s: f for s in self._symbols if (f := self.forming(s)) is not None}
            newest = max(shown.values(), default=self._woken)
            if (
                newest > self._woken
                and all(f == newest for f in shown.values())
                and any(newest > decided.get(s, newest - 2 * step) + step for s in shown)
            ):
                self._woken = newest
                return
            self._shown.clear()
            await self._shown.wait()

    async def _follow(self, symbol: str) -> None:
        bars, forming = self._bars[symbol], self._forming
        try:
            async for candle in self._connector.watch_candles(symbol, self._timeframe):
                bars[candle.ts_ms] = candle
                if candle.ts_ms > forming.get(symbol, candle.ts_ms - 1):
                    forming[symbol] = candle.ts_ms
                    self._shown.set()
                if len(bars) > self._keep:
                    self._trim(bars)
        except asyncio.CancelledError:
            raise
        except Exception:  # a loop's top: the shell polls REST for this symbol from now on
            log.exception("candle stream ended; polling REST", symbol=symbol)
            self._shown.set()  # it holds no other symbol's poll back now

    def _trim(self, bars: dict[int, Candle]) -> None:
        for ts in sorted(bars)[: max(0, len(bars) - self._keep)]:
            del bars[ts]


async def next_poll(
    stop: asyncio.Event, feed: StreamedCandles | None, decided: Mapping[str, int], wait_s: float
) -> None:
    """Wait for the live loop's next poll: ``wait_s`` on (the timer), or ``stop`` set, or,
    following candles on ``feed``, a bar closed after ``decided`` on every stream
    (``StreamedCandles.bars_closed``)."""
    waits: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
    if feed is not None:
        waits.append(asyncio.ensure_future(feed.bars_closed(decided)))
    try:
        await asyncio.wait(waits, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
