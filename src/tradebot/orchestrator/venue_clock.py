"""The venue's clock as a poll reads it: asked after the poll's orders are sent, not before.

A poll needs the venue's clock before it looks at the candles (a candle counts as closed once
its close is behind the venue's clock), and the clock call was also the poll's first contact
with the venue, its health probe. Asked at the poll's start, it stood between a bar's close
and the order (about half a millisecond of CCXT and rate-limiter work in every such window).
So the clock is read at the end of each poll, after the orders went out, and the next poll
starts from that reading moved on by this machine's monotonic clock: a lower bound of the
venue's clock (the venue stamped the reading before its answer arrived), anchored again at
every poll, so neither a step of this machine's wall clock nor a drift between the two clocks
outlasts one poll. That reading is the health probe: the venue answered at the end of the
previous poll. When it did not (that poll failed, or never got there) or the reading is older
than ``max_age_s``, the clock is read first, before anything is decided, as it always was.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tradebot.exchange.port import ExchangeConnector


class VenueClock:
    """The venue's clock, read at the end of each poll and carried forward to the next."""

    def __init__(
        self, connector: ExchangeConnector, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._connector = connector
        self._monotonic = monotonic
        self._reading: tuple[int, float] | None = None
        """(the venue's clock in epoch ms, this machine's monotonic seconds once it arrived);
        taken away while a poll runs and given back at its end, so a failed poll leaves none."""
        self._taken: tuple[int, float] | None = None
        """The reading a running poll read first (it makes no second call at its end)."""

    async def read(self) -> int:
        """Ask the venue's clock; carry it forward from now on."""
        venue_ms = await self._connector.fetch_time()
        self._reading = (venue_ms, self._monotonic())
        return venue_ms

    async def poll_started(self, max_age_s: float) -> int:
        """The venue's clock for a poll's candles: carried forward from the end of the last
        poll, or asked now when there is no such reading of at most ``max_age_s``."""
        reading, self._reading, self._taken = self._reading, None, None
        if reading is None or self._monotonic() - reading[1] > max_age_s:
            now = await self.read()
            self._taken, self._reading = self._reading, None
            return now
        venue_ms, arrived = reading
        return venue_ms + int((self._monotonic() - arrived) * 1000)

    async def poll_ended(self) -> None:
        """After the poll's orders: ask the clock (unless the poll did first), the health
        probe and the next poll's start."""
        if self._taken is not None:
            self._reading, self._taken = self._taken, None
        else:
            await self.read()
