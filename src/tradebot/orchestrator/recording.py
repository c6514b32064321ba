"""Record the venue's public trades into the candle store while the bot trades.

``tradebot run --record-trades`` opens a second connector with websockets (the trading
connector stays as configured) and runs a ``TradeRecorder`` on its trade stream as a
background task. The recording is a side line: it shares the bot's database file but not its
connection, and stopping it (cancel, then the recorder's final flush) never blocks the bot's
own shutdown for longer than one batch write::

    async with record_trades(source, "BTC/USDT", "sqlite:///bot.db") as recording:
        await bot.run()
    print(recording.stats.written)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from tradebot.data.recorder import PublicTrade, RecorderStats, TradeRecorder
from tradebot.data.store import CandleStore

_log = logging.getLogger(__name__)


class TradeSource(Protocol):
    """A connector with a public trade stream (``CcxtConnector`` built with websockets)."""

    def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        """Public trades of ``symbol`` as they print."""
        ...

    async def close(self) -> None:
        """Close the connection and its websockets."""
        ...


class TradeRecording:
    """A running recorder task; ``stats`` counts what it wrote."""

    def __init__(self, source: TradeSource, symbol: str, recorder: TradeRecorder) -> None:
        """Start recording ``symbol`` from ``source`` (call inside a running event loop)."""
        self.symbol = symbol
        self._source = source
        self._recorder = recorder
        self._task = asyncio.create_task(recorder.record(source.watch_trades(symbol)))

    @property
    def stats(self) -> RecorderStats:
        """Trades received, written and repeated so far."""
        return self._recorder.stats

    async def stop(self) -> int:
        """Cancel the stream, let the recorder flush what it holds; return trades written.

        A recorder that failed earlier (the database went away) is logged, not raised: the
        bot's shutdown must go on.
        """
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception:  # the recording is best effort; the bot's own state is not at stake
            _log.exception("trade recording of %s failed", self.symbol)
        await self._source.close()
        return self.stats.written


@contextlib.asynccontextmanager
async def record_trades(
    source: TradeSource | None, symbol: str, database: str, *, flush_interval_s: float = 1.0
) -> AsyncIterator[TradeRecording | None]:
    """Record ``symbol``'s public trades into the ``CandleStore`` at ``database`` meanwhile.

    ``database`` is a SQLAlchemy URL or a SQLite path (the bot's own database). On exit the
    task is cancelled, the last batch written and ``source`` closed. Without a ``source``
    (recording switched off) it yields None and does nothing.
    """
    if source is None:
        yield None
        return
    store = CandleStore(database)
    try:
        recording = TradeRecording(
            source, symbol, TradeRecorder(store, flush_interval_s=flush_interval_s)
        )
        try:
            yield recording
        finally:
            written = await recording.stop()
            _log.info("recorded %d trades of %s", written, symbol)
    finally:
        store.close()
