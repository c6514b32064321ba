"""What a REST poll asks the venue for: the whole window once, then only the newest candles.

Parsing the whole window (62 candles here, 403 on the default 1m strategy) at every poll was
the largest part of the bot's work between a bar's close and its order. The requests are
read off CCXT's own HTTP session (an aiohttp trace), as the venue receives them.
"""

from __future__ import annotations

from pathlib import Path

from paper_venue import WireRequests, make_bot, replay, sandbox


async def test_polls_after_the_first_ask_for_three_candles_and_a_pause_for_the_window(
    tmp_path: Path,
) -> None:
    # Arrange: a paper bot whose CCXT session is traced
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        asked = WireRequests(bot)
        await bot.start()
        # Act: ten bars, then a pause of three
        await replay(server, bot, 10)
        steady = asked.klines_limits()
        await server.advance(3)
        await bot.step()
        decided = bot.stats.cycles
        await bot.close()
    # Assert: the window once at the start, then three candles a poll; after the pause the
    # three do not reach back to the newest kept, and the whole window is fetched again
    assert steady == [62] + [3] * 10
    assert asked.klines_limits()[len(steady) :] == [3, 62]
    assert decided == 11
