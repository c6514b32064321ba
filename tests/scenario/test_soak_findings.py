"""What bench/crash_soak.py found, each shown on the real paper path (sandbox over ccxt).

The soak kills a paper bot at every checkpoint of its cycle and, after the first completed
cycle of each restart, asks the exchange whether the position held is covered by a stop.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from paper_venue import killed_at, make_bot, replay, sandbox, venue_balance, venue_orders
from tradebot.domain.orders import OrderStatus
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.live import TradingBot

LOT = Decimal("0.00001")  # BTC/USDT's lot step: a stop sells whole lots


async def test_a_stop_saved_but_never_sent_before_a_crash_is_placed_at_the_next_cycle(
    tmp_path: Path,
) -> None:
    # Arrange: the first bot dies right after saving its first entry's fill together with
    # the intent of the position's stop, before the stop is sent.
    async with sandbox() as server:
        first = await killed_at(server, tmp_path, "fill_saved")
        stop_id = next(
            o.client_order_id
            for o in first.repo.orders()
            if role_of(o.client_order_id) is OrderRole.STOP_LOSS
        )
        # Act: a new process on the same database; recovery closes the unsent stop; the
        # bot trades one cycle
        second = make_bot(server, tmp_path)
        await second.start()
        await replay(server, second, 1)
        orders = await venue_orders(server)
        balance = await second.connector.fetch_balance()
        await second.close()
    # Assert: the unsent stop is closed, and the position still held has a working stop
    closed = second.repo.get_order(stop_id)
    assert closed is not None
    assert closed.status.is_terminal
    held = balance["BTC"].total
    assert held >= Decimal("0.0001"), "the position is still held after one cycle"
    working_stops = [
        o
        for o in orders
        if o["status"] == "open" and o["side"] == "sell" and "STOP_LOSS" in o["info"]["type"]
    ]
    assert working_stops, f"{held} BTC held after a completed cycle, no stop on the exchange"
    assert second.engine.view.protection_of("BTC/USDT") is not None
    assert {o.status for o in second.repo.open_orders("BTC/USDT")} == {OrderStatus.OPEN}


async def test_a_position_whose_stop_was_never_sent_before_a_crash_is_protected_at_start(
    tmp_path: Path,
) -> None:
    # Arrange: as above, the first bot dies between saving its entry's fill with the intent
    # of the position's stop and sending the stop
    async with sandbox() as server:
        await killed_at(server, tmp_path, "fill_saved")
        # Act: a new process on the same database starts; no bar closes
        second = make_bot(server, tmp_path)
        await second.start()
        orders = await venue_orders(server)
        held = await venue_balance(server, "BTC")
        await second.close()
    # Assert: the position is covered by a stop on the exchange from the start on, and the
    # bar decided before the crash is not decided again
    assert held > Decimal("0.0001")
    stops = [
        Decimal(str(o["amount"]))
        for o in orders
        if o["status"] == "open" and role_of(str(o["clientOrderId"])) is OrderRole.STOP_LOSS
    ]
    assert stops == [held.quantize(LOT, ROUND_DOWN)], f"{held} BTC held, {stops}"
    decided = Counter(d.ts_ms for d in second.repo.decisions())
    assert [ts for ts, n in decided.items() if n > 1] == []


def deciding_a_sale(bot: TradingBot) -> bool:
    """True when the bot's newest decision sells."""
    return bot.repo.decisions()[-1].action.startswith("sell")


@pytest.mark.parametrize("bars_down", [0, 2], ids=["restarted in its bar", "two bars later"])
async def test_an_exit_saved_but_never_sent_before_a_crash_is_sent_at_start_while_fresh(
    tmp_path: Path, bars_down: int
) -> None:
    # Arrange: the first bot dies between saving its first exit's decision and intent and
    # sending it (its stop still rests on the exchange); ``bars_down`` bars close meanwhile
    async with sandbox() as server:
        first = await killed_at(server, tmp_path, "intent_saved", when=deciding_a_sale)
        decided_at = first.repo.decisions()[-1].ts_ms
        await server.advance(bars_down)
        # Act: a new process on the same database starts
        second = make_bot(server, tmp_path)
        await second.start()
        orders = await venue_orders(server)
        held = await venue_balance(server, "BTC")
        await second.close()
    # Assert: in its own bar, the exit decided goes out at start (its stop canceled first)
    # and sells the position; two bars later (trading.max_signal_age_bars: 1) it is stale,
    # and the position stays held under its stop. No bar is decided twice.
    exits = [o for o in orders if role_of(str(o["clientOrderId"])) is OrderRole.EXIT]
    stops = [
        o
        for o in orders
        if o["status"] == "open" and role_of(str(o["clientOrderId"])) is OrderRole.STOP_LOSS
    ]
    if bars_down == 0:
        assert [(o["clientOrderId"], o["status"]) for o in exits][-1:] == [
            (f"tb-BTCUSDT-{decided_at}-ex1", "closed")
        ]
        assert (held < Decimal("0.00001"), stops) == (True, [])
    else:
        assert [o for o in exits if o["clientOrderId"].startswith(f"tb-BTCUSDT-{decided_at}")] == []
        assert [Decimal(str(o["amount"])) for o in stops] == [held.quantize(LOT, ROUND_DOWN)]
    decided = Counter(d.ts_ms for d in second.repo.decisions())
    assert [ts for ts, n in decided.items() if n > 1] == []
