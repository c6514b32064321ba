"""Python's cyclic garbage collector never runs between a bar's close and its order.

A collection in that window was up to several milliseconds (a full one of a trading
process, half a second): the poll runs with the collector paused, and what piled up is
collected after the order is out. Collections are heard through ``gc.callbacks``, the
order on the wire through an aiohttp trace on CCXT's own session.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from paper_venue import make_bot, sandbox


class Window:
    """Collections between a poll's first request and its first order on the wire (a poll
    that sends none is not counted: the collector runs again once it has ended).

    The window opens at the poll's first request, not before the test calls ``step``: the
    coroutines the call makes before the poll pauses the collector are allocations too,
    and with a collection every five of them one landed there in one full run of three.
    """

    def __init__(self) -> None:
        self.armed = False
        """A poll is under way: its first request opens the window."""
        self.open = False
        self.orders = 0
        self.polled = 0
        """Collections since the poll began (counted as inside if it sends an order)."""
        self.collections_inside = 0
        self.collections_outside = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._started)
        self.trace.on_request_headers_sent.append(self._sent)

    async def _started(self, _session: object, _context: SimpleNamespace, _params: object) -> None:
        if self.armed and not self.open:
            self.armed, self.open, self.polled = False, True, 0

    async def _sent(
        self,
        _session: object,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestHeadersSentParams,
    ) -> None:
        if self.open and params.method == "POST" and "/order" in params.url.path:
            self.orders += 1
            self.open = False
            self.collections_inside += self.polled

    def collected(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            if self.open:
                self.polled += 1
            else:
                self.collections_outside += 1


@pytest.fixture
def eager_collector() -> Iterator[None]:
    """A collection after every allocation or so: one would surely land in the window."""
    before = gc.get_threshold()
    gc.set_threshold(5)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@pytest.mark.usefixtures("eager_collector")
async def test_no_collection_runs_between_a_poll_and_its_order(tmp_path: Path) -> None:
    # Arrange: a paper bot whose CCXT session is traced, collections counted
    window = Window()
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        bot.connector.exchange.session = aiohttp.ClientSession(trace_configs=[window.trace])  # type: ignore[attr-defined]
        await bot.start()
        gc.callbacks.append(window.collected)
        try:
            # Act: polls until three orders went out
            while window.orders < 3:
                await server.advance(1)
                window.armed = True
                assert await bot.step()
                window.armed = window.open = False
        finally:
            gc.callbacks.remove(window.collected)
            await bot.close()

    # Assert: none inside the windows, many outside; the collector is left on
    assert window.collections_inside == 0
    assert window.collections_outside > 0
    assert gc.isenabled()
