"""``tradebot serve market-data``: one exchange's closed candles, published to the bus.

One service per exchange. What "closed" means is the single process's rule
(``orchestrator.candles.closed_candles``: by the venue's clock, never the bar still forming),
asked over REST. Where the connector streams candles (a websocket), each update wakes the
poll at once, so a bar is published as soon as the venue has closed it; without one (or
while it is down) the poll runs every ``poll_interval_s``. An exchange or a bus that is
down is waited out (a bar counts as published once the bus took it). A (re)started
service publishes each symbol's newest closed bar, then every bar that closes after it: a
repeat carries the same event id and is dropped downstream, and bars that closed while it
was down are older than the signal age the execution service accepts anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from tradebot.domain.errors import ExchangeUnavailable
from tradebot.domain.market import Candle
from tradebot.exchange.port import ExchangeConnector
from tradebot.orchestrator.candles import closed_candles
from tradebot.services.bus import BusError, EventBus
from tradebot.services.messages import CandleClosed

log = structlog.get_logger("tradebot.services.market_data")
_LOOKBACK = 10  # candles asked per poll: several bars may close between two polls


@dataclass(slots=True)
class MarketDataCounts:
    """What the service did (tests and the log read it)."""

    polls: int = 0
    published: int = 0
    errors: int = 0


class MarketDataService:
    """Publishes every closed candle of ``symbols`` on ``venue`` to the market-data stream."""

    def __init__(
        self,
        connector: ExchangeConnector,
        bus: EventBus,
        venue: str,
        symbols: Sequence[str],
        timeframe: str,
        *,
        poll_interval_s: float = 5.0,
        stream: bool = False,
    ) -> None:
        """``stream``: wake on the connector's candle stream as well as on the timer."""
        self.connector, self.bus = connector, bus
        self.venue, self.symbols, self.timeframe = venue, tuple(symbols), timeframe
        self._poll_interval_s, self._stream = poll_interval_s, stream
        self._last: dict[str, int] = {}
        self._wake = asyncio.Event()
        self.counts = MarketDataCounts()
        self.source = f"market-data:{venue}"

    async def poll(self) -> int:
        """Publish the candles that closed since the last poll, in time order; how many."""
        now = await self.connector.fetch_time()
        new: list[tuple[int, str, Candle]] = []
        for symbol in self.symbols:
            closed = await closed_candles(self.connector, symbol, self.timeframe, now, _LOOKBACK)
            last = self._last.get(symbol)
            fresh = closed[-1:] if last is None else [c for c in closed if c.ts_ms > last]
            new += [(c.ts_ms, symbol, c) for c in fresh]
        for ts, symbol, candle in sorted(new, key=lambda x: (x[0], self.symbols.index(x[1]))):
            message = CandleClosed(self.venue, symbol, self.timeframe, candle)
            await self.bus.publish(message.envelope(self.source, int(time.time() * 1000)))
            self._last[symbol] = ts
            self.counts.published += 1
        self.counts.polls += 1
        return len(new)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; an exchange that is down is waited out."""
        symbols = self.symbols if self._stream else ()
        tasks = [asyncio.create_task(self._watch(s)) for s in symbols]
        tasks.append(asyncio.create_task(self._wake_on(stop)))
        try:
            while not stop.is_set():
                try:
                    await self.poll()
                except ExchangeUnavailable as exc:
                    self.counts.errors += 1
                    log.warning("exchange unavailable; waiting", error=str(exc))
                except BusError as exc:  # a bar not published is published at the next poll
                    self.counts.errors += 1
                    log.error("bus unavailable; waiting", error=str(exc))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _watch(self, symbol: str) -> None:
        # A candle update with a newer open time means the previous bar closed: poll now.
        newest = 0
        async for candle in self.connector.watch_candles(symbol, self.timeframe):
            if candle.ts_ms > newest:
                newest = candle.ts_ms
                self._wake.set()
