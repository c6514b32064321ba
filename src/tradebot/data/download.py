"""Download candle history through the ExchangeConnector port into the CandleStore.

``download`` pages through ``fetch_ohlcv`` (``since_ms`` + ``limit``, the next page starting
at the newest candle received) and writes each page to the store before asking for the
next, so an interrupted download loses at most the page in flight and the next run resumes
where it stopped. Resuming re-fetches the last stored candle (it is overwritten, not doubled).

Only closed candles are stored: one whose close (open + timeframe) is after the venue's
``fetch_time()`` is still forming and is dropped, and so is the venue's newest candle
whatever the clock says (the sandbox's ``/time`` is the wall clock while it replays history):
the newest candle of each page is held back and asked for again as the first of the next,
so a candle is stored only once the venue has shown a newer one. Rate limits are the
connector's business (``CcxtConnector`` spends its shared weight budget before each call);
nothing here sleeps.

After each series the stored range is run through ``check_candles``: gaps the exchange itself
has (a halt, a delisting pause) are reported as found; none is invented at page boundaries,
because pages follow the venue's own timestamps rather than a computed grid.

This module sees the exchange only through the port (an import-linter contract holds it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tradebot.data.frame import candles_to_frame, fmt_ts
from tradebot.data.quality import QualityReport, check_candles
from tradebot.data.store import CandleStore
from tradebot.domain.errors import DataError, ExchangeError
from tradebot.domain.market import Candle, timeframe_to_ms

PAGE_LIMIT = 1000
"""Candles asked for per request: Binance's maximum for ``/api/v3/klines``."""

_log = logging.getLogger(__name__)


class CandleSource(Protocol):
    """The two ``ExchangeConnector`` methods a download needs (any connector has them)."""

    async def fetch_time(self) -> int:
        """The venue's clock in epoch ms."""
        ...

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Candles from ``since_ms``, oldest first; the last may still be forming."""
        ...


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """What one (symbol, timeframe) download fetches: ``windows`` of ``[start_ms, end_ms)``.

    ``resumed_ms`` is the last candle already stored (None on a first download).
    """

    symbol: str
    timeframe: str
    windows: tuple[tuple[int, int], ...]
    resumed_ms: int | None

    @property
    def total_ms(self) -> int:
        """The time the windows span (what a progress bar counts)."""
        return sum(max(0, end - start) for start, end in self.windows)


@dataclass(frozen=True, slots=True)
class PageWritten:
    """One page fetched and already committed to the store."""

    symbol: str
    timeframe: str
    page: int
    rows: int
    new_rows: int
    last_ts_ms: int | None
    done_ms: int
    total_ms: int


class DownloadProgress(Protocol):
    """Told about each series and page (the CLI draws a progress bar with it)."""

    def series_started(self, plan: SeriesPlan) -> None:
        """A series is about to be fetched."""
        ...

    def page_written(self, page: PageWritten) -> None:
        """A page is in the store (raising here stops the download after that page)."""
        ...


class NoProgress:
    """A ``DownloadProgress`` that shows nothing."""

    def series_started(self, plan: SeriesPlan) -> None:
        """Ignore."""

    def page_written(self, page: PageWritten) -> None:
        """Ignore."""


@dataclass(slots=True)
class SeriesResult:
    """What a download of one (symbol, timeframe) did, and the check of what is stored."""

    symbol: str
    timeframe: str
    resumed_ms: int | None = None
    pages: int = 0
    received: int = 0
    written: int = 0
    new_rows: int = 0
    duplicates: int = 0
    still_open: int = 0
    report: QualityReport | None = field(default=None)
    error: str | None = None
    """Why the series stopped early (the venue refused or stayed down), if it did."""

    def describe(self) -> str:
        """One paragraph for the terminal: what was fetched, what is stored, its gaps."""
        head = (
            f"{self.symbol} {self.timeframe}: {self.new_rows:,} new candle(s), {self.pages} page(s)"
        )
        if self.resumed_ms is not None:
            head += f", resumed after {fmt_ts(self.resumed_ms)}"
        extras = [
            f"{self.duplicates:,} duplicate(s) dropped" if self.duplicates else "",
            f"{self.still_open} still-open candle(s) dropped" if self.still_open else "",
        ]
        lines = [head + "".join(f"; {e}" for e in extras if e)]
        if self.error is not None:
            lines.append(f"  FAILED: {self.error}")
        if self.report is not None:
            lines.append("  " + self.report.to_text().replace("\n", "\n  "))
        return "\n".join(lines)


async def download(
    source: CandleSource,
    store: CandleStore,
    symbols: Sequence[str],
    timeframes: Sequence[str],
    since_ms: int | None,
    until_ms: int | None = None,
    *,
    progress: DownloadProgress | None = None,
    page_limit: int = PAGE_LIMIT,
) -> list[SeriesResult]:
    """Download every (symbol, timeframe) into ``store``, one series after the other.

    ``since_ms`` may be None only for series already stored (they resume). ``until_ms`` is
    exclusive, like the store's bounds.

    Raises:
        DataError: a series has nothing stored and no ``since_ms``.
        ValueError: a timeframe is not a CCXT timeframe.

    A series the venue refuses or that fails after the connector's retries (unknown symbol
    or interval, venue down) keeps what it wrote and carries the ``error``; the others go on.
    """
    for timeframe in timeframes:
        timeframe_to_ms(timeframe)
    shown = progress or NoProgress()
    results = []
    for symbol in symbols:
        for timeframe in timeframes:
            series = _SeriesDownload(source, store, symbol, timeframe, page_limit)
            try:
                results.append(await series.run(since_ms, until_ms, shown))
            except ExchangeError as error:
                # one bad symbol or timeframe must not cost the other series
                _log.warning("%s %s failed: %s", symbol, timeframe, error)
                results.append(series.failed(error))
    return results


class _SeriesDownload:
    # one (symbol, timeframe): plan from the store and the venue clock, fetch, check

    def __init__(
        self, source: CandleSource, store: CandleStore, symbol: str, timeframe: str, limit: int
    ) -> None:
        self.source, self.store, self.limit = source, store, limit
        self.step_ms = timeframe_to_ms(timeframe)
        self.result = SeriesResult(symbol, timeframe)
        self._forming: set[int] = set()  # open times of candles dropped as still forming

    async def run(
        self, since_ms: int | None, until_ms: int | None, progress: DownloadProgress
    ) -> SeriesResult:
        now_ms = await self.source.fetch_time()
        closed_end = now_ms - self.step_ms + 1  # ts + step <= now  <=>  ts < closed_end
        end_ms = closed_end if until_ms is None else min(until_ms, closed_end)
        plan = self._plan(since_ms, end_ms)
        progress.series_started(plan)
        done_ms = 0
        for start, stop in plan.windows:
            fresh_after = plan.resumed_ms if start == plan.resumed_ms else None
            await self._fetch_window(start, stop, closed_end, fresh_after, plan, done_ms, progress)
            done_ms += max(0, stop - start)
        first_ms = since_ms if since_ms is not None else plan.windows[0][0]
        frame = self.store.read(self.result.symbol, self.result.timeframe, first_ms, end_ms)
        self.result.report = check_candles(frame, self.result.timeframe) if len(frame) else None
        _log.info("downloaded %s", self.result.describe())
        return self.result

    def failed(self, error: ExchangeError) -> SeriesResult:
        """The result so far, marked with the error that stopped it."""
        self.result.error = str(error)
        return self.result

    def _plan(self, since_ms: int | None, end_ms: int) -> SeriesPlan:
        symbol, timeframe = self.result.symbol, self.result.timeframe
        stored = self.store.read(symbol, timeframe, since_ms, end_ms)["ts_ms"].to_numpy(np.int64)
        if stored.size == 0:
            if since_ms is None:
                raise DataError(
                    f"no {symbol} {timeframe} candles are stored to resume from; "
                    "pass a start date (--since 2024-01-01)"
                )
            return SeriesPlan(symbol, timeframe, ((since_ms, end_ms),), None)
        first, last = int(stored[0]), int(stored[-1])
        self.result.resumed_ms = last
        head = ((since_ms, first),) if since_ms is not None and first > since_ms else ()
        return SeriesPlan(symbol, timeframe, (*head, (last, end_ms)), last)

    async def _fetch_window(
        self,
        start_ms: int,
        stop_ms: int,
        closed_end: int,
        fresh_after: int | None,
        plan: SeriesPlan,
        done_ms: int,
        progress: DownloadProgress,
    ) -> None:
        # The newest candle of a page is held back and asked for again as the first of the
        # next page: only a newer candle proves it closed. A page holding nothing newer than
        # the candle asked from is the venue's head, still forming whatever the clock says.
        cursor = start_ms
        while cursor < stop_ms:
            page = await self.source.fetch_ohlcv(
                plan.symbol, plan.timeframe, since_ms=cursor, limit=self.limit
            )
            newest = max((c.ts_ms for c in page), default=None)
            if newest is None:
                break  # the venue has nothing from the cursor on
            at_head = newest <= cursor
            if at_head and newest < stop_ms:
                self._forming.add(newest)
            kept = self._keep(page, cursor, min(stop_ms, newest), closed_end)
            new_rows = sum(1 for c in kept if fresh_after is None or c.ts_ms > fresh_after)
            self.store.write(plan.symbol, plan.timeframe, candles_to_frame(kept))
            self.result.pages += 1
            self.result.written += len(kept)
            self.result.new_rows += new_rows
            self.result.still_open = len(self._forming)
            done = done_ms + min(stop_ms, newest) - start_ms
            written = PageWritten(
                plan.symbol,
                plan.timeframe,
                page=self.result.pages,
                rows=len(kept),
                new_rows=new_rows,
                last_ts_ms=newest,
                done_ms=done,
                total_ms=plan.total_ms,
            )
            progress.page_written(written)
            if at_head:
                break
            cursor = newest

    def _keep(self, page: list[Candle], cursor: int, stop_ms: int, closed_end: int) -> list[Candle]:
        # the page's closed candles inside [cursor, stop_ms), sorted, one per open time
        self.result.received += len(page)
        self._forming.update(c.ts_ms for c in page if c.ts_ms >= closed_end)
        by_ts: dict[int, Candle] = {}
        for candle in page:
            if cursor <= candle.ts_ms < stop_ms:
                if candle.ts_ms in by_ts:
                    self.result.duplicates += 1
                by_ts[candle.ts_ms] = candle
        return [by_ts[ts] for ts in sorted(by_ts)]
