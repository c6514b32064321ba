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
from collections.abc import Sequence

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

    def closed(self, symbol: str, now_ms: int) -> list[Candle] | None:
        """``symbol``'s candles closed by ``now_ms`` (venue clock), oldest first, or None when
        the stream cannot vouch for them (see the module docstring): ask REST then."""
        forming = self.forming(symbol)
        if forming is None:
            return None
        # Done on whole lists (a generator over the window's stamps cost the window a third
        # of a millisecond): the stamps up to the newest closed, and one step apart.
        bars, step = self._bars[symbol], self._bar_ms
        stamps = sorted(bars)
        stamps = stamps[: bisect.bisect_right(stamps, min(forming - 1, now_ms - step))]
        if stamps and stamps != list(range(stamps[0], stamps[-1] + 1, step)):
            return None  # a hole: REST says whether the venue has the bar
        return list(map(bars.__getitem__, stamps))

    async def _follow(self, symbol: str) -> None:
        bars = self._bars[symbol]
        try:
            async for candle in self._connector.watch_candles(symbol, self._timeframe):
                bars[candle.ts_ms] = candle
                self._forming[symbol] = max(candle.ts_ms, self._forming.get(symbol, 0))
                if len(bars) > self._keep:
                    self._trim(bars)
        except asyncio.CancelledError:
            raise
        except Exception:  # a loop's top: the shell polls REST for this symbol from now on
            log.exception("candle stream ended; polling REST", symbol=symbol)

    def _trim(self, bars: dict[int, Candle]) -> None:
        for ts in sorted(bars)[: max(0, len(bars) - self._keep)]:
            del bars[ts]
