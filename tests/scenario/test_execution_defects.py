"""The execution core's defects, each shown on the real paper path (sandbox over ccxt).

Each test reproduces a finding of the independent harness (issue "Execution core"): a crash
between sending and recording, an outage, a database write that fails while a fill is saved.
The bot must never send a decision twice, never trade a stale bar at today's price, and never
leave a position without its stop.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections import Counter
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from paper_venue import (
    BIG,
    SAMPLE,
    duplicates,
    killed_at,
    make_bot,
    replay,
    sandbox,
    venue_balance,
    venue_orders,
    venue_trades,
)
from tradebot.data.load import read_candle_file
from tradebot.domain.decisions import KillSwitch
from tradebot.domain.orders import OrderStatus
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.continuity import kill_switch_at_cycle
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.settings import ATR_COLUMN
from tradebot.orchestrator.trade_feed import TradeFeed
from tradebot.sandbox import SandboxServer
from tradebot.sandbox.book import BookShape

H = 3_600_000
CANDLES = read_candle_file(SAMPLE)


async def test_a_bar_decided_before_a_crash_is_never_decided_again(tmp_path: Path) -> None:
    # Arrange: the first bot dies right after its first order reached the venue
    async with sandbox() as server:
        await killed_at(server, tmp_path, "order_sent")
        # Act: a new process on the same database, trading on
        second = make_bot(server, tmp_path)
        await second.start()
        await replay(server, second, 60)
        orders = await venue_orders(server)
        await second.close()
    # Assert: one decision per bar, no order twice, the database agrees with the venue
    bars = Counter(d.ts_ms for d in second.repo.decisions())
    assert [ts for ts, n in bars.items() if n > 1] == []
    assert duplicates(orders) == 0
    saved = {o.client_order_id: o for o in second.repo.orders()}
    venue = {str(o["clientOrderId"]): str(o["status"]) for o in orders}
    ccxt_status = {"closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED}
    for cid, status in venue.items():
        if status in ccxt_status:
            assert saved[cid].status in (ccxt_status[status], OrderStatus.EXPIRED), cid


async def test_after_an_outage_only_the_newest_bar_is_decided_and_the_rest_logged_skipped(
    tmp_path: Path,
) -> None:
    # Arrange: a bot that has traded a while, then was away for 6 bars
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        await bot.start()
        await replay(server, bot, 30)
        cycles, sent = bot.stats.cycles, bot.stats.orders_sent
        await server.advance(6)
        # Act
        await bot.step()
        await bot.close()
    # Assert
    decisions = bot.repo.decisions()
    skipped = [d for d in decisions if d.action == "skipped"]
    assert bot.stats.cycles == cycles + 1
    assert len(skipped) == 5
    assert "trading.max_signal_age_bars" in skipped[0].signal.reason
    assert decisions[-1].action != "skipped"
    assert decisions[-1].ts_ms == skipped[-1].ts_ms + H
    assert bot.stats.orders_sent - sent <= 2  # at most one decision's orders, never five
    # Each skipped bar records the account at its close (it recorded 0.00, a 100 % loss).
    closes = dict(zip(CANDLES["ts_ms"], CANDLES["close"], strict=True))
    for d in skipped:
        assert d.cash > 0
        assert d.equity == pytest.approx(d.cash + d.position_qty * closes[d.ts_ms])


async def test_a_fill_that_cannot_be_saved_keeps_the_stop_and_is_saved_at_the_next_cycle(
    tmp_path: Path,
) -> None:
    # Arrange: while the entry's fill is being saved, another connection holds the database
    # locked (a lock held too long), so the save fails after SQLite's busy timeout.
    db = tmp_path / "bot.db"
    blocker: list[sqlite3.Connection] = []

    def lock_on_first_entry_fill(name: str) -> None:
        if name == "fill_booked" and not blocker:
            conn = sqlite3.connect(db, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            blocker.append(conn)

    async with sandbox() as server:
        bot = make_bot(server, tmp_path, checkpoint=lock_on_first_entry_fill)
        await bot.start()
        for _ in range(300):
            await replay(server, bot, 1)
            if blocker:
                break
        assert blocker, "an entry filled within 300 bars"
        # Assert (while locked): the stop went out, new entries are stopped
        protection = bot.engine.view.protection_of("BTC/USDT")
        assert protection is not None
        assert protection.stop_order_id is not None
        open_ids = {
            str(o["clientOrderId"]) for o in await venue_orders(server) if o["status"] == "open"
        }
        assert protection.stop_order_id in open_ids
        assert bot.writer.unsaved
        assert kill_switch_at_cycle(bot.repo.kill_switch(), bool(bot.writer.unsaved)) is (
            KillSwitch.REDUCING
        )
        # Act: the lock goes away; the next cycle saves what was kept
        blocker[0].execute("ROLLBACK")
        blocker[0].close()
        await replay(server, bot, 1)
        await bot.close()
    # Assert: the fill, its order and the stop are in the database as on the venue
    assert bot.writer.unsaved == []
    fills = bot.repo.fills("BTC/USDT")
    assert fills
    assert role_of(fills[0].client_order_id) is OrderRole.ENTRY
    saved = {o.client_order_id: o for o in bot.repo.orders()}
    assert saved[fills[0].client_order_id].status is OrderStatus.FILLED
    assert saved[protection.stop_order_id].status is OrderStatus.OPEN


class CrashBeforeTheExit:
    """A checkpoint hook: when the bot has saved a decision to sell, and before its stop's
    cancel goes out, the price crashes 5 % through the stop on a book thinned to
    ``level_notional`` a level, and the bar closes. The book is deep again at once
    (``thin_for_the_exit`` False) or from the next bar on."""

    def __init__(self, server: SandboxServer, level_notional: Decimal, thin_for_the_exit: bool):
        self.server, self.level_notional = server, level_notional
        self.thin_for_the_exit = thin_for_the_exit
        self.bot: TradingBot | None = None
        self.crashed_at: int | None = None
        self._deep: BookShape | None = None

    def __call__(self, name: str) -> None:
        book = self.server.venue.books["BTCUSDT"]
        if name == "bar_closed" and self._deep is not None and self.crashed_at is not None:
            book.shape, self._deep = self._deep, None
        if name != "decision_saved" or self.crashed_at is not None or self.bot is None:
            return
        decision = self.bot.repo.decisions()[-1]
        if not decision.action.startswith("sell"):
            return
        self._deep = book.shape
        book.shape = dataclasses.replace(book.shape, level_notional=self.level_notional)
        self.server.venue.pending_shock_pct = Decimal(5)
        self.server.venue.advance(1)
        if not self.thin_for_the_exit:
            book.shape, self._deep = self._deep, None
            book.reprice(self.server.venue.price("BTCUSDT"))
        self.crashed_at = decision.ts_ms

    async def trade_until_it_crashed(self, server: SandboxServer, tmp_path: Path) -> TradingBot:
        """A bot on ``server`` with this hook, traded until the crash came (100 bars)."""
        self.bot = make_bot(server, tmp_path, checkpoint=self)
        await self.bot.start()
        for _ in range(100):
            await replay(server, self.bot, 1)
            if self.crashed_at is not None:
                return self.bot
        raise AssertionError("no exit was decided within 100 bars")


async def test_a_stop_that_fills_in_part_just_before_its_cancel_has_every_fill_booked(
    tmp_path: Path,
) -> None:
    # Arrange: the bot decides an exit; after it last asked its trades and before its cancel
    # reaches the venue, the price crashes through the stop and the book thins out: the stop
    # sells part and expires (a market stop takes what the book holds). The venue answers
    # the cancel ("unknown order") and the look-up ("expired, 0.0098 filled") without
    # trades; the exit then sells what the thin book takes, a bar later than the stop.
    async with sandbox() as server:
        crash = CrashBeforeTheExit(server, Decimal(20), thin_for_the_exit=True)
        bot = await crash.trade_until_it_crashed(server, tmp_path)
        # Act: the bot trades on
        await replay(server, bot, 5)
        trades = await venue_trades(server)
        balance = await venue_balance(server, "BTC")
        await bot.close()
    # Assert: every trade of the venue is booked, once, and the position is what it holds
    assert [t for t in trades if str(t["clientOrderId"]).endswith("-sl")], "the stop sold part"
    booked = bot.repo.fills("BTC/USDT")
    assert sorted(f.trade_id for f in booked) == sorted(str(t["id"]) for t in trades)
    position = bot.engine.view.position("BTC/USDT")
    assert (position.qty if position else Decimal(0)) == balance


@pytest.mark.parametrize(
    ("level_notional", "exit_fills"),
    [(Decimal(20), [("closed", pytest.approx(0.01357))]), (Decimal(200), [])],
    ids=["stop sold part: the exit sells the rest", "stop sold all: no exit goes out"],
)
async def test_an_exit_decided_before_its_stop_sold_in_part_sells_what_is_left(
    tmp_path: Path, level_notional: Decimal, exit_fills: list[tuple[str, object]]
) -> None:
    # Arrange: as above, the stop sells part on a thin book between the bot's last look at
    # its trades and its exit; the book is deep again when the exit goes out. The exit was
    # decided for the whole position: the venue would refuse it (more than the account
    # holds) and leave the rest of the position with neither its stop nor its exit.
    async with sandbox() as server:
        crash = CrashBeforeTheExit(server, level_notional, thin_for_the_exit=False)
        bot = await crash.trade_until_it_crashed(server, tmp_path)
        orders = await venue_orders(server)
        balance = await venue_balance(server, "BTC")
        await bot.close()
    # Assert: the exit sold what the stop left, and the bot is flat as the venue says
    exits = [o for o in orders if "-ex" in str(o["clientOrderId"])]
    assert [(o["status"], o["filled"]) for o in exits] == exit_fills
    assert balance < Decimal("0.00001")  # dust below one lot
    assert bot.engine.view.position("BTC/USDT") is None or bot.engine.view.is_flat("BTC/USDT")
    refused = [o for o in bot.repo.orders() if o.status is OrderStatus.REJECTED]
    assert [o.client_order_id for o in refused if "insufficient" in o.status_reason] == []


async def test_a_stop_filled_in_more_pieces_than_a_page_of_trades_is_booked_whole_at_once(
    tmp_path: Path,
) -> None:
    # Arrange: the bot reads its trades five to a page; a crash on a thin book makes its
    # stop sell in twenty pieces while it waits for the bar to close
    async with sandbox() as server:
        bot = make_bot(server, tmp_path)
        bot.trades = TradeFeed(bot.connector, page=5)
        await bot.start()
        for _ in range(100):
            await replay(server, bot, 1)
            protection = bot.engine.view.protection_of("BTC/USDT")
            if protection is not None and protection.stop_order_id is not None:
                break
        book = server.venue.books["BTCUSDT"]
        book.shape = dataclasses.replace(book.shape, level_notional=Decimal(20))
        server.venue.pending_shock_pct = Decimal(5)
        # Act: one poll after the crash
        await replay(server, bot, 1)
        trades = await venue_trades(server)
        balance = await venue_balance(server, "BTC")
        await bot.close()
    # Assert: every piece of the stop is booked by that one poll
    pieces = [t for t in trades if str(t["clientOrderId"]).endswith("-sl")]
    assert len(pieces) > 10
    booked = bot.repo.fills("BTC/USDT")
    assert sorted(f.trade_id for f in booked) == sorted(str(t["id"]) for t in trades)
    position = bot.engine.view.position("BTC/USDT")
    assert (position.qty if position else Decimal(0)) == balance


@pytest.mark.parametrize(
    ("level_notional", "entry_status"),
    [(Decimal(BIG), "closed"), (Decimal(20), "expired")],
    ids=["bought whole", "bought in part on a thin book, the rest expired"],
)
async def test_an_entry_that_filled_while_the_bot_was_down_is_protected_at_start(
    tmp_path: Path, level_notional: Decimal, entry_status: str
) -> None:
    # Arrange: the first entry, a market buy (its stop 2 ATR under the price bought at),
    # reaches the venue and fills there; the bot dies as the answer comes back, unread.
    async with sandbox() as server:
        book = server.venue.books["BTCUSDT"]
        deep = book.shape

        def thin_book_for_the_entry(name: str) -> None:
            if name in ("intent_saved", "order_sent"):  # deep again once it is on the wire
                thin = dataclasses.replace(deep, level_notional=level_notional)
                book.shape = thin if name == "intent_saved" else deep
                book.reprice(server.venue.price("BTCUSDT"))

        first = await killed_at(server, tmp_path, "order_sent", before=thin_book_for_the_entry)
        # Act: a new process on the same database starts; no bar has closed since
        second = make_bot(server, tmp_path)
        await second.start()
        orders = await venue_orders(server)
        held = await venue_balance(server, "BTC")
        await second.close()
    # Assert: what was bought is covered from the start by the stop decided with the entry
    entry = next(o for o in orders if role_of(str(o["clientOrderId"])) is OrderRole.ENTRY)
    assert entry["status"] == entry_status
    assert held > 0
    stops = [
        o
        for o in orders
        if o["status"] == "open" and role_of(str(o["clientOrderId"])) is OrderRole.STOP_LOSS
    ]
    lot = Decimal("0.00001")  # BTC/USDT's lot step: a stop sells whole lots
    assert [Decimal(str(o["amount"])) for o in stops] == [held.quantize(lot, ROUND_DOWN)], (
        f"{held} BTC held at start, stops on the exchange: {stops}"
    )
    decided = next(
        d for d in first.repo.decisions() if entry["clientOrderId"] in d.client_order_ids
    )
    bought_at = second.repo.get_order(str(entry["clientOrderId"])).avg_fill_price
    expected = bought_at - 2 * Decimal(repr(decided.indicators[ATR_COLUMN]))
    assert Decimal(str(stops[0]["stopPrice"])) == expected.quantize(Decimal("0.01"), ROUND_DOWN)
