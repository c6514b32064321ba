"""SimulatedConnector: the simulated clock, next-open fills, reused ids, streams, history checks.

What both venues share is in tests/contract/; these are the simulated venue's own rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TypeVar

import pytest

from factories import make_market
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import DataError, InsufficientFunds, InvalidOrder, OrderNotFound
from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.exchange.simulated_connector import SimulatedConnector
from tradebot.exchange.simulated_market import BookShape, CandleHistory

T = TypeVar("T")
D = Decimal
BTC, ETH = "BTC/USDT", "ETH/USDT"
T0 = 1_704_067_200_000
M = 60_000
BTC_BARS = [Candle(T0 + i * M, 100.0 + i, 103.0 + i, 97.0 + i, 101.0 + i, 5.0) for i in range(6)]


def connector(
    usdt: str = "10000",
    bars: list[Candle] | None = None,
    start_ms: int | None = None,
    book: BookShape | None = None,
    eth: list[Candle] | None = None,
) -> SimulatedConnector:
    markets = [make_market(BTC, qty_step="0.001"), make_market(ETH, qty_step="0.001")]
    sim = SimulatedExchange(markets, {"USDT": D(usdt), "ETH": D(1)})
    candles = {BTC: bars or BTC_BARS} | ({ETH: eth} if eth else {})
    return SimulatedConnector(sim, CandleHistory(candles, "1m", start_ms), book)


def cmd(
    cid: str,
    kind: OrderType = OrderType.MARKET,
    qty: str = "1",
    price: str | None = None,
    side: OrderSide = OrderSide.BUY,
    symbol: str = BTC,
    stop: str | None = None,
    oco_with: str | None = None,
) -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId(cid),
        symbol,
        side,
        kind,
        D(qty),
        None if price is None else D(price),
        None if stop is None else D(stop),
        oco_with=None if oco_with is None else ClientOrderId(oco_with),
    )


async def next_of(stream: AsyncIterator[T]) -> T:
    return await asyncio.wait_for(anext(stream), 1.0)


async def test_create_order_market_stays_open_then_fills_at_the_current_bar_open() -> None:
    # Arrange
    venue = connector()

    # Act
    placed = await venue.create_order(cmd("m1", qty="2"))
    await venue.advance()
    filled = await venue.fetch_order(ClientOrderId("m1"), BTC)
    usdt = (await venue.fetch_balance())["USDT"]

    # Assert: bar 0 opens at 100; 0.1 % taker fee paid in BTC
    assert placed.status is OrderStatus.OPEN
    assert (filled.status, filled.avg_fill_price) == (OrderStatus.FILLED, D(100))
    assert usdt.free == D(10000 - 200)
    assert (await venue.fetch_balance())["BTC"].free == D("1.998")


async def test_advance_moves_the_clock_one_timeframe_and_serves_the_next_open() -> None:
    venue = connector()

    await venue.advance(2)

    assert await venue.fetch_time() == T0 + 2 * M
    assert (await venue.fetch_ticker(BTC)).last == 102.0
    assert [c.close for c in await venue.fetch_ohlcv(BTC, "1m")] == [101.0, 102.0, 102.0]


async def test_advance_past_the_last_bar_raises_data_error_and_keeps_the_clock() -> None:
    venue = connector()
    await venue.advance(5)

    with pytest.raises(DataError, match="history ends"):
        await venue.advance()
    assert await venue.fetch_time() == T0 + 5 * M


async def test_start_ms_serves_earlier_bars_as_closed_and_prices_at_the_start_open() -> None:
    venue = connector(start_ms=T0 + 3 * M)

    bars = await venue.fetch_ohlcv(BTC, "1m")
    since = await venue.fetch_ohlcv(BTC, "1m", since_ms=T0 + M, limit=2)

    assert [(c.ts_ms, c.close, c.volume) for c in bars] == [
        (T0, 101.0, 5.0),
        (T0 + M, 102.0, 5.0),
        (T0 + 2 * M, 103.0, 5.0),
        (T0 + 3 * M, 103.0, 0.0),
    ]
    assert [c.ts_ms for c in since] == [T0 + M, T0 + 2 * M]
    assert (await venue.fetch_ticker(BTC)).last == 103.0


@pytest.mark.parametrize(
    ("bars", "problem"),
    [
        ([BTC_BARS[1], BTC_BARS[0]], "must be sorted"),
        ([BTC_BARS[0], Candle(T0 + 90_000, 1, 1, 1, 1, 1)], "on one grid"),
        ([], "needs candles"),
    ],
)
def test_candle_history_unusable_candles_raise_data_error(bars: list[Candle], problem: str) -> None:
    with pytest.raises(DataError, match=problem):
        CandleHistory({BTC: bars}, "1m")


def test_connector_history_of_a_symbol_without_market_raises_data_error() -> None:
    sim = SimulatedExchange([make_market(BTC)], {"USDT": D(100)})

    with pytest.raises(DataError, match="DOGE/USDT"):
        SimulatedConnector(sim, CandleHistory({"DOGE/USDT": BTC_BARS}, "1m"))


async def test_create_order_reused_id_returns_the_first_while_core_submit_refuses_it() -> None:
    # Arrange
    venue = connector()
    first = await venue.create_order(cmd("dup", OrderType.LIMIT, "1", "90"))

    # Act
    again = await venue.create_order(cmd("dup", OrderType.LIMIT, "5", "95"))

    # Assert: the port answers like CcxtConnector; the backtester's core still refuses
    assert (again.qty, again.price) == (first.qty, D(90))
    with pytest.raises(InvalidOrder, match="Duplicate order sent"):
        venue.exchange.submit(cmd("dup", OrderType.LIMIT, "5", "95"))
    assert (await venue.fetch_balance())["USDT"].locked == D(90)


async def test_create_order_second_pending_market_buy_over_the_free_quote_is_refused() -> None:
    venue = connector(usdt="150")
    await venue.create_order(cmd("m1", qty="1"))

    with pytest.raises(InsufficientFunds, match=r"needs 100\.00000000 USDT, 50\.00000000 free"):
        await venue.create_order(cmd("m2", qty="1"))
    with pytest.raises(OrderNotFound):
        await venue.fetch_order(ClientOrderId("m2"), BTC)


async def test_returned_orders_are_copies_that_later_fills_do_not_change() -> None:
    venue = connector()
    placed = await venue.create_order(cmd("m1"))

    await venue.advance()

    assert (placed.status, placed.filled_qty, placed.fills) == (OrderStatus.OPEN, D(0), [])


async def test_fetch_order_of_another_symbol_raises_order_not_found() -> None:
    venue = connector()
    await venue.create_order(cmd("l1", OrderType.LIMIT, "1", "90"))

    with pytest.raises(OrderNotFound, match="is on BTC/USDT, not ETH/USDT"):
        await venue.fetch_order(ClientOrderId("l1"), ETH)


async def test_cancel_order_of_an_oco_leg_reports_both_legs_canceled() -> None:
    # Arrange: 1 ETH held, a take-profit at 110 and a stop at 90 sharing it
    venue = connector(eth=[Candle(T0, 100, 101, 99, 100, 1)])
    stream = venue.watch_orders(ETH)
    sell = OrderSide.SELL
    await venue.create_order(cmd("tp", OrderType.LIMIT, "1", "110", sell, ETH))
    await venue.create_order(
        cmd("sl", OrderType.STOP_LOSS, "1", None, sell, ETH, stop="90", oco_with="tp")
    )
    placed = [await next_of(stream), await next_of(stream)]

    # Act
    await venue.cancel_order(ClientOrderId("sl"), ETH)
    updates = {(await next_of(stream)).client_order_id for _ in range(2)}

    # Assert
    assert [o.status for o in placed] == [OrderStatus.OPEN, OrderStatus.OPEN]
    assert updates == {"tp", "sl"}
    assert await venue.fetch_open_orders(ETH) == []
    assert (await venue.fetch_balance())["ETH"].free == D(1)


async def test_watch_orders_of_one_symbol_ignores_the_other() -> None:
    venue = connector(eth=[Candle(T0 + i * M, 100, 101, 99, 100, 1) for i in range(6)])
    stream = venue.watch_orders(ETH)

    await venue.create_order(cmd("b1", OrderType.LIMIT, "1", "90"))
    await venue.create_order(cmd("e1", OrderType.LIMIT, "1", "95", symbol=ETH))

    assert (await next_of(stream)).client_order_id == "e1"


async def test_symbol_in_a_gap_keeps_its_last_close_while_others_trade() -> None:
    # Arrange: ETH has bars 0 and 2 only
    eth = [Candle(T0, 50, 51, 49, 50.5, 1), Candle(T0 + 2 * M, 52, 53, 51, 52.5, 1)]
    venue = connector(eth=eth)

    # Act
    await venue.advance()
    in_gap = await venue.fetch_ticker(ETH)
    await venue.advance()

    # Assert
    assert in_gap.last == 50.5
    assert (await venue.fetch_ticker(ETH)).last == 52.0
    assert [c.ts_ms for c in await venue.fetch_ohlcv(ETH, "1m")] == [T0, T0 + 2 * M]


async def test_fetch_order_book_levels_follow_the_book_shape() -> None:
    venue = connector(book=BookShape(spread_bps=D(20), step_bps=D(1), levels=3))

    book = await venue.fetch_order_book(BTC, 10)

    assert [lvl.price for lvl in book.bids] == [99.9, 99.89, 99.88]
    assert [lvl.price for lvl in book.asks] == [100.1, 100.11, 100.12]
    assert {lvl.qty for lvl in book.bids + book.asks} == {500.0}


async def test_close_ends_every_stream() -> None:
    venue = connector()
    candles = venue.watch_candles(BTC, "1m")
    orders = venue.watch_orders()
    first = await next_of(candles)

    await venue.close()

    assert (first.ts_ms, first.volume) == (T0, 0.0)
    with pytest.raises(StopAsyncIteration):
        await next_of(candles)
    with pytest.raises(StopAsyncIteration):
        await next_of(orders)


async def test_watch_candles_of_another_timeframe_raises_invalid_order() -> None:
    with pytest.raises(InvalidOrder, match="replays 1m bars"):
        connector().watch_candles(BTC, "5m")
