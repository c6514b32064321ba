"""An exit decided while its stop rests: the stop canceled and the sell placed in one request
(Binance's cancel-replace, held to a stop with nothing filled), not a cancel and then a sell.

A cancel before the sell cost a round trip and a millisecond of the bot's own work between the
bar's close and the exit. The requests are read off CCXT's own HTTP session, as the venue
receives them; the venue's own orders and trades are the account's record.
"""

from __future__ import annotations

from pathlib import Path

from paper_venue import WireRequests, make_bot, polls_asked, sandbox, venue_orders, venue_trades
from tradebot.domain.orders import ClientOrderId
from tradebot.execution.router import OrderRole, role_of


async def test_an_exit_cancels_its_resting_stop_and_sells_in_one_request(tmp_path: Path) -> None:
    # Arrange: a paper bot on the quick EMA strategy, its CCXT session traced
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        requests = WireRequests(bot)
        try:
            await bot.start()
            # Act: 150 bars
            polls = await polls_asked(server, bot, requests, 150)
            saved = {f.trade_id for f in bot.repo.fills("BTC/USDT")}
        finally:
            await bot.close()
        orders = {str(o["clientOrderId"]): o for o in await venue_orders(server)}
        traded = {str(t["id"]) for t in await venue_trades(server)}

    # Assert: every exit one request, and it canceled a stop that had sold nothing
    def role(cid: str) -> OrderRole | None:
        return role_of(ClientOrderId(cid))

    exits = [o for cid, o in orders.items() if role(cid) is OrderRole.EXIT]
    canceled_stops = [
        o
        for cid, o in orders.items()
        if role(cid) is OrderRole.STOP_LOSS and o["status"] == "canceled"
    ]
    order_calls = [[r for r in asked if r.split()[0] in ("POST", "DELETE")] for asked in polls]
    replaces = [c for calls in order_calls for c in calls if c == "POST /order/cancelReplace"]
    assert len(exits) >= 8
    assert all(o["status"] == "closed" for o in exits)
    assert len(replaces) == len(exits) == len(canceled_stops)
    assert all(o["filled"] == 0 for o in canceled_stops)
    assert not any("DELETE /order" in calls for calls in order_calls)
    assert saved == traded
