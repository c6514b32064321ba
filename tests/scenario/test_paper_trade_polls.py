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
from tradebot.domain.orders import OrderStatus, OrderType
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
    # Arrange: a paper bot whose CCXT session is traced (its checkpoints marked among the
    # requests); the test's own client on the venue
    polls: list[tuple[bool, bool, bool, bool]] = []
    """Per poll: (an order of the bot's may have filled since the last ask, it asked before
    its decision, an order was working, an order call was left with no ask after it)."""
    async with sandbox() as server:
        bot = make_bot(server, tmp_path, checkpoint=lambda name: requests.note(name))
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
                decided = asked.index("NOTE decision_saved")
                asks = [k for k, r in enumerate(asked) if r == "GET /myTrades"]
                calls = [
                    k for k, r in enumerate(asked) if r.split()[0] in ("POST", "DELETE")
                ]  # fmt: skip
                left = bool(calls) and (not asks or calls[-1] > asks[-1])
                polls.append((due, bool(asks) and asks[0] < decided, working, left))
                called = (called and not asks) or left
            saved = {f.trade_id for f in bot.repo.fills("BTC/USDT")}
            await bot.close()
            on_venue = {str(t["id"]) for t in await venue.fetch_my_trades("BTC/USDT", None, 1000)}
        finally:
            await venue.close()

    # Assert: asked before a decision exactly when an order may have filled; the trades of a
    # poll's own order calls asked in that poll, after its orders; every venue trade saved
    assert [asked for _, asked, _, _ in polls] == [due for due, *_ in polls]
    assert sum(asked for _, asked, _, _ in polls) < 10  # quiet polls ask nothing, stop or not
    assert sum(working and not asked for _, asked, working, _ in polls) >= 40  # a stop rested
    assert not any(left for *_, left in polls)
    assert saved == on_venue
    assert len(saved) >= 10


async def test_a_poll_asks_nothing_while_no_closed_bar_reached_the_resting_stop(
    tmp_path: Path,
) -> None:
    # Arrange: as above; the test's own client reads each bar as it closes
    polls: list[tuple[bool, list[str]]] = []
    """Per poll: (no bar since the stop's placement reached it and no order call came in the
    poll before, what the poll asked the venue before its decision was saved)."""
    async with sandbox() as server:
        bot = make_bot(server, tmp_path, checkpoint=lambda name: requests.note(name))
        requests = WireRequests(bot)
        venue = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
        lows: dict[int, float] = {}
        try:
            await bot.start()
            called = True
            # Act: 150 bars of the quick EMA strategy
            for _ in range(150):
                await server.advance(1)
                bar = (await venue.fetch_ohlcv("BTC/USDT", "1h", limit=2))[0]
                lows[int(bar[0])] = float(bar[3])
                working = bot.engine.view.open_orders("BTC/USDT")
                untouched = bool(working) and all(
                    o.status is OrderStatus.OPEN
                    and o.type is OrderType.STOP_LOSS
                    and min(low for ts, low in lows.items() if ts >= o.created_ts_ms)
                    > (o.stop_price or 0)
                    for o in working
                )
                requests.taken()
                assert await bot.step()
                asked = requests.taken()
                before = asked[: asked.index("NOTE decision_saved")]
                polls.append((untouched and not called, before))
                called = any(r.split()[0] in ("POST", "DELETE") and "/order" in r for r in asked)
            saved = {f.trade_id for f in bot.repo.fills("BTC/USDT")}
            await bot.close()
            on_venue = {str(t["id"]) for t in await venue.fetch_my_trades("BTC/USDT", None, 1000)}
        finally:
            await venue.close()

    # Assert: a stop no closed bar reached is vouched for by the bars: nothing asked before
    # the decision (the open orders are asked after it, once its orders are out)
    quiet = [before for untouched, before in polls if untouched]
    assert len(quiet) >= 30
    assert [a for a in quiet if "GET /openOrders" in a or "GET /myTrades" in a] == []
    assert saved == on_venue
