"""TradeRecorder: write the venue's public trades into the store while the bot runs.

The live runner hands it the connector's trade stream (``CcxtConnector.watch_trades``)::

    recorder = TradeRecorder(store)
    task = asyncio.create_task(recorder.record(connector.watch_trades("BTC/USDT")))

Trades are buffered and written in batches (``CandleStore.write_ticks``), every
``batch_size`` trades or ``flush_interval_s`` seconds on the injected clock, whichever comes
first, and once more when the stream ends or the task is cancelled. Writing is idempotent on
(symbol, trade id): a trade the stream delivers again after a reconnect (or a second
recorder on the same symbol) is stored once. A trade without a venue id gets one made of its
time, price, amount and side, which would merge two identical prints in the same
millisecond; Binance always sends an id.

This module sees trades through a structural ``PublicTrade`` protocol, so it needs nothing
from the exchange adapter (an import-linter contract holds data/ to the port).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from tradebot.data.store import Tick
from tradebot.domain.errors import DataError

_log = logging.getLogger(__name__)
_SIDES: dict[str, Literal["buy", "sell"]] = {"buy": "buy", "sell": "sell"}


class PublicTrade(Protocol):
    """What the recorder reads from a trade (``MarketTrade`` of the CCXT streams has it)."""

    @property
    def symbol(self) -> str:
        """CCXT-unified symbol."""
        ...

    @property
    def ts_ms(self) -> int:
        """Trade time, epoch ms."""
        ...

    @property
    def price(self) -> float:
        """Trade price."""
        ...

    @property
    def qty(self) -> float:
        """Amount in the base asset."""
        ...

    @property
    def side(self) -> str:
        """The taker's side, ``buy`` or ``sell``."""
        ...

    @property
    def trade_id(self) -> str | None:
        """The venue's trade id, if it sends one."""
        ...


class TickSink(Protocol):
    """Where ticks go (``CandleStore`` is one)."""

    def write_ticks(self, ticks: Iterable[Tick]) -> int:
        """Upsert ticks by (symbol, trade id); return rows written."""
        ...


@dataclass(slots=True)
class RecorderStats:
    """Counters for the monitoring component."""

    received: int = 0
    written: int = 0
    repeated: int = 0
    """Trades seen again (same symbol and id) and not written twice."""
    flushes: int = 0


def to_tick(trade: PublicTrade) -> Tick:
    """The store's row for one trade.

    Raises:
        DataError: the side is neither buy nor sell.
    """
    side = _SIDES.get(str(trade.side))
    if side is None:
        raise DataError(f"trade {trade.trade_id} of {trade.symbol}: side {trade.side!r} unknown")
    trade_id = trade.trade_id or f"{trade.ts_ms}:{trade.price!r}:{trade.qty!r}:{side}"
    return Tick(trade.symbol, trade.ts_ms, trade_id, trade.price, trade.qty, side)


class TradeRecorder:
    """Buffer public trades and write them to a ``TickSink`` in batches."""

    def __init__(
        self,
        sink: TickSink,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        remember: int = 10_000,
    ) -> None:
        """Write every ``batch_size`` trades or ``flush_interval_s`` seconds of ``clock``.

        ``remember`` recent trade ids are kept to skip repeats before they reach the sink.
        """
        if batch_size < 1 or flush_interval_s <= 0:
            raise ValueError(
                f"batch_size must be >= 1 and flush_interval_s > 0, "
                f"got {batch_size} and {flush_interval_s}"
            )
        self.sink = sink
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.stats = RecorderStats()
        self._clock = clock
        self._pending: dict[tuple[str, str], Tick] = {}
        self._recent: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remember = remember
        self._last_flush_s = clock()

    @property
    def pending(self) -> int:
        """Trades buffered, not yet written."""
        return len(self._pending)

    def add(self, trade: PublicTrade) -> int:
        """Buffer one trade; flush when the batch is full or due. Returns rows written now."""
        tick = to_tick(trade)
        key = (tick.symbol, tick.trade_id)
        self.stats.received += 1
        if key in self._recent or key in self._pending:
            self.stats.repeated += 1
        else:
            self._pending[key] = tick
        if len(self._pending) >= self.batch_size:
            return self.flush()
        return self.flush_if_due()

    def flush_if_due(self) -> int:
        """Flush if ``flush_interval_s`` has passed since the last flush."""
        if self._clock() - self._last_flush_s >= self.flush_interval_s:
            return self.flush()
        return 0

    def flush(self) -> int:
        """Write what is buffered now. On a sink error the batch stays buffered.

        Raises:
            Whatever the sink raises (the database is down): nothing is lost from the buffer.
        """
        self._last_flush_s = self._clock()
        if not self._pending:
            return 0
        written = self.sink.write_ticks(list(self._pending.values()))
        for key in self._pending:
            self._recent[key] = None
        self._pending.clear()
        while len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        self.stats.written += written
        self.stats.flushes += 1
        return written

    async def record(self, trades: AsyncIterable[PublicTrade]) -> None:
        """Consume ``trades`` until the stream ends or the task is cancelled, then flush."""
        ticker = asyncio.create_task(self._flush_on_time())
        try:
            async for trade in trades:
                self.add(trade)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            written = self.flush()
            _log.info("trade recorder stopped (%d written at the end)", written)

    async def _flush_on_time(self) -> None:
        # a quiet market sends no trade to trigger the time rule: check it on a timer too
        while True:
            await asyncio.sleep(self.flush_interval_s)
            self.flush_if_due()
