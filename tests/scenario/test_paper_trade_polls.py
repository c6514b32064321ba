"""When a poll asks the venue for the account's trades: only while one of the bot's orders
may have filled since it last asked, and the venue's list of open orders does not vouch that
none did (an order call made since, or a working order the venue does not list as open with
the amount the bot booked filled).

Asking at every poll cost a round trip and about a millisecond of CCXT's work before every
entry; asking while a stop rests cost the same before every exit. The requests are read off
CCXT's own HTTP session (an aiohttp trace), as the venue receives them, and the fills the bot
saved are held to the venue's own list of the account's trades.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from paper_venue import KEY, SECRET, WireRequests, make_bot, sandbox
from tradebot.domain.orders import OrderStatus
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.orchestrator.live import TradingBot


def unvouched(bot: TradingBot, venue_open: dict[str, Decimal]) -> bool:
    """A working order of the bot's that the venue does not list as open with the amount
    the bot booked filled: it may have filled."""
    return any(
        order.status not in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
        or venue_open.get(order.client_order_id) != order.filled_qty
        for order in bot.engine.view.open_orders("BTC/USDT")
    )


async def test_a_poll_asks_for_the_accounts_trades_only_while_an_order_may_have_filled(
    tmp_path: Path,
) -> None:
    # Arrange: a paper bot whose CCXT session is traced; the test's own client on the venue
    polls: list[tuple[bool, bool, bool]] = []
    """Per poll: (an order of the bot's may have filled since the last ask, it asked, an
    order was working)."""
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        requests = WireRequests(bot)
        venue = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
        try:
            await bot.start()
            called = True  # nothing asked yet
            # Act: 150 bars of the quick EMA strategy
            for _ in range(150):
                await server.advance(1)
                listed = await venue.fetch_open_orders("BTC/USDT")
                venue_open = {str(o["clientOrderId"]): Decimal(str(o["filled"])) for o in listed}
                working = bool(bot.engine.view.open_order_ids("BTC/USDT"))
                due = called or unvouched(bot, venue_open)
                requests.taken()
                assert await bot.step()
                asked = requests.taken()
                asked_trades = "GET /myTrades" in asked
                order_calls = [
                    r for r in asked if r.split()[0] in ("POST", "DELETE") and "/order" in r
                ]
                polls.append((due, asked_trades, working))
                called = (called and not asked_trades) or bool(order_calls)
            saved = {f.trade_id for f in bot.repo.fills("BTC/USDT")}
            await bot.close()
            on_venue = {str(t["id"]) for t in await venue.fetch_my_trades("BTC/USDT", None, 1000)}
        finally:
            await venue.close()

    # Assert: asked exactly when an order may have filled; every trade of the venue saved
    assert [asked for _, asked, _ in polls] == [due for due, _, _ in polls]
    assert sum(asked for _, asked, _ in polls) < 60  # quiet polls ask nothing, stop or not
    assert sum(working and not asked for _, asked, working in polls) >= 40  # a stop rested
    assert saved == on_venue
    assert len(saved) >= 10
