"""A stop cancelled on the venue by someone else (by hand on the exchange's site) while no
bar comes near it: the bars vouch that it did not fill (``reach.py``), so the poll decides
without asking, and the venue's open orders are asked once the poll's orders are out; the bot
learns of the cancel in that same poll, not when the price next reaches the stop. A sync
between bars (the execution service's) has no new bar to go by: it asks the venue. Those
asks come last in the cycle: a venue that fails them fails no part of the bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from paper_venue import KEY, SECRET, make_bot, replay, sandbox
from tradebot.domain.orders import ClientOrderId, OrderStatus, OrderType
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange


@pytest.mark.parametrize(
    "learn", ["the next bar's poll", "a sync between bars"], ids=["poll", "between bars"]
)
async def test_a_stop_cancelled_on_the_venue_is_learnt(tmp_path: Path, learn: str) -> None:
    # Arrange: a paper bot traded until a stop rests
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        venue = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
        try:
            await bot.start()
            resting: list[str] = []
            for _ in range(100):  # until one stop rested through a poll that asked nothing
                await replay(server, bot, 1)
                resting.append(",".join(
                    o.client_order_id
                    for o in bot.engine.view.open_orders("BTC/USDT")
                    if o.type is OrderType.STOP_LOSS and o.status is OrderStatus.OPEN
                ))  # fmt: skip
                if len(resting) >= 3 and resting[-1] and resting[-1] == resting[-3]:
                    break
            stop = bot.engine.view.order(ClientOrderId(resting[-1]))
            assert stop is not None
            await venue.cancel_order(
                None, "BTC/USDT", params={"clientOrderId": stop.client_order_id}
            )
            # Act: one more bar and its poll, or the sync the execution service runs between
            # bars (``ExecutionService.sync``: no bar closed since the last cycle)
            if learn == "the next bar's poll":
                await replay(server, bot, 1)
            else:
                await bot.sync_exchange()
            known = bot.engine.view.order(stop.client_order_id)
            listed = {str(o["clientOrderId"]) for o in await venue.fetch_open_orders("BTC/USDT")}
            working = {o.client_order_id for o in bot.engine.view.open_orders("BTC/USDT")}
        finally:
            await venue.close()
            await bot.close()

    # Assert: the bot holds the cancel the venue made, and works what the venue lists
    assert known is not None
    assert known.status is OrderStatus.CANCELED
    assert working == listed


async def test_a_venue_that_fails_the_asks_after_the_orders_fails_no_part_of_the_bar(
    tmp_path: Path,
) -> None:
    # Arrange: the venue goes into maintenance as soon as an order is sent, so the asks
    # that follow the cycle's orders (``_confirm``) fail
    async with sandbox() as server:

        def maintenance_after_the_order(name: str) -> None:
            if name == "order_sent":
                server.faults.update({"maintenance_s": 60.0})

        bot = make_bot(server, tmp_path, checkpoint=maintenance_after_the_order)
        try:
            await bot.start()
            # Act: bars until one sends an order
            for _ in range(100):
                if await replay(server, bot, 1) == [False]:
                    break
            decided = bot.repo.last_bar_ts("BTC/USDT", "1h")
            snapshots = {s.ts_ms for s in bot.repo.snapshots()}
        finally:
            await bot.close()

    # Assert: the poll failed after the order, and its bar is recorded whole
    assert bot.stats.orders_sent >= 1
    assert bot.stats.errors == 1
    assert decided is not None
    assert decided in snapshots
