"""A real-time bot that follows its candles on the venue's stream decides a bar as soon as
the stream shows it closed, not at its next timer (``trading.cycle_interval_s``, a minute by
default): the order goes out at the bar's close, as the backtest assumes, not up to a
minute later at another price."""

from __future__ import annotations

import asyncio
from pathlib import Path

from paper_venue import WireRequests, eventually, make_bot, quick_config, sandbox
from tradebot.orchestrator.bot_settings import BotSettings

SYMBOL = "BTC/USDT"


async def test_a_streaming_bot_decides_a_bar_when_its_stream_shows_it_closed(
    tmp_path: Path,
) -> None:
    # Arrange: a bot running in real time, timer at a minute, candles on the kline stream
    async with sandbox() as server:
        settings = BotSettings((SYMBOL,), "1h", window_bars=60, poll_interval_s=60.0,
                               stream_candles=True)  # fmt: skip
        bot = make_bot(server, tmp_path, config=quick_config(), settings=settings, websockets=True)
        asked = WireRequests(bot)
        await bot.start()
        asked.taken()
        running = asyncio.create_task(bot.run())
        try:
            started = bot.repo.last_bar_ts(SYMBOL, "1h")
            closing = server.now_ms  # the bar forming, which the advance closes

            async def polled() -> bool:  # a poll ends by reading the venue's clock
                await asyncio.sleep(0.01)
                return "GET /time" in asked.taken()

            async def decided() -> bool:
                await asyncio.sleep(0.01)
                return bot.repo.last_bar_ts(SYMBOL, "1h") == closing

            await eventually(polled, timeout_s=5.0)  # the run's first poll: nothing new
            # Act: the bar closes on the venue
            await server.advance(1)
            # Assert: decided within seconds (the timer would take a minute)
            await eventually(decided, timeout_s=5.0)
            await eventually(polled, timeout_s=5.0)  # that poll's end
            cycles = bot.stats.cycles
            await asyncio.sleep(0.5)
            idle = asked.taken()
        finally:
            bot.stop()
            await running
            await bot.close()
    assert started is not None
    assert closing == started + 3_600_000
    assert cycles == 1
    # and no poll follows until the next bar or the timer: no loop on a bar decided already
    assert idle == []


async def test_a_streaming_bot_sends_a_market_order_with_no_ticker_request(
    tmp_path: Path,
) -> None:
    # Arrange: a bot following its candles on the kline stream, its window seeded over REST
    async with sandbox() as server:
        settings = BotSettings((SYMBOL,), "1h", window_bars=60, stream_candles=True)
        bot = make_bot(server, tmp_path, config=quick_config(), settings=settings, websockets=True)
        asked = WireRequests(bot)
        await bot.start()
        feed = bot.candle_feed
        assert feed is not None
        await bot.poll()
        # the REST candles' price is stale for valuing an order (older than 2 s)
        await asyncio.sleep(2.1)
        asked.taken()
        # Act: bars close on the stream until the bot sends orders
        for _ in range(40):
            await server.advance(1)
            forming = server.now_ms

            async def shown(forming: int = forming) -> bool:
                await asyncio.sleep(0.005)
                return feed.forming(SYMBOL) == forming

            await eventually(shown, timeout_s=5.0)
            await bot.poll()
        taken = asked.taken()
        await bot.close()
    # Assert: market orders went out, each valued at the streamed close: no ticker asked
    assert "POST /order" in taken
    assert [p for p in taken if "/ticker" in p] == []
