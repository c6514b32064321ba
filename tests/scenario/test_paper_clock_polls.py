"""When a poll asks the venue's clock: once a poll, after its orders, not before them.

Asked first, the clock call stood between every bar's close and its order (about half a
millisecond of CCXT and rate-limiter work). A poll now starts from the clock read at the end
of the poll before it, carried forward on this machine's monotonic clock; that reading is
also the poll's health probe, so after a poll that failed the clock is asked first again,
before anything is decided. The requests are read off CCXT's own HTTP session (an aiohttp
trace), as the venue receives them.
"""

from __future__ import annotations

from pathlib import Path

from paper_venue import (
    WireRequests,
    make_bot,
    polls_asked,
    replay,
    sandbox,
    set_faults,
    venue_orders,
)


async def test_a_poll_asks_the_venues_clock_after_its_orders_and_first_after_a_failure(
    tmp_path: Path,
) -> None:
    # Arrange: a paper bot whose CCXT session is traced
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        requests = WireRequests(bot)
        try:
            await bot.start()
            # Act: 80 bars of the quick EMA strategy, then one poll in a maintenance window
            # and one after it
            polls = await polls_asked(server, bot, requests, 80)
            await set_faults(server, maintenance_s=60.0)
            assert (await replay(server, bot, 1)) == [False]
            requests.taken()
            await set_faults(server, maintenance_s=0.0)
            after_failure = []
            for _ in range(2):
                assert (await replay(server, bot, 1)) == [True]
                after_failure.append(requests.taken())
            placed = await venue_orders(server)
        finally:
            await bot.close()

    # Assert: every poll asked the clock once, as its last request; the poll after a
    # failed one asked it first, before the candles, and the next one last again
    assert all(p.count("GET /time") == 1 and p[-1] == "GET /time" for p in polls)
    with_orders = [p for p in polls if any(r.startswith("POST /order") for r in p)]
    assert len(with_orders) >= 5
    assert len(placed) >= 10  # the orders went out and the venue holds them
    first, then = after_failure
    assert first[0] == "GET /time"
    assert first.count("GET /time") == 1
    assert then.count("GET /time") == 1
    assert then[-1] == "GET /time"
