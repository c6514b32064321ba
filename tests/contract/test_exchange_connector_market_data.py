"""The ExchangeConnector contract, market data and streams: the same on every venue.

The clock rule both venues follow (docs/sandbox.md): bars that opened by now are served, the
last being the current bar with only its open known; ``advance`` closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import TypeVar

import pytest
from contract_venues import SYMBOL, T0, TIMEFRAME, VenueHarness, candle, order

from tradebot.domain import errors as domain
from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, OrderStatus, OrderType

T = TypeVar("T")
STEP_S = 5.0  # a stream that says nothing for this long has failed the test


def opening(i: int) -> Candle:
    """Bar i as it looks while current: its open only, no volume yet."""
    o = candle(i).open
    return Candle(candle(i).ts_ms, o, o, o, o, 0.0)


def ohlc(bars: list[Candle]) -> list[tuple[int, float, float, float, float]]:
    return [(b.ts_ms, b.open, b.high, b.low, b.close) for b in bars]


async def next_of(stream: AsyncIterator[T]) -> T:
    return await asyncio.wait_for(anext(stream), STEP_S)


async def test_fetch_ohlcv_at_start_serves_only_the_open_of_the_current_bar(
    venue: VenueHarness,
) -> None:
    bars = await venue.port.fetch_ohlcv(SYMBOL, TIMEFRAME)

    assert ohlc(bars) == ohlc([opening(0)])
    assert bars[-1].volume == 0


async def test_fetch_ohlcv_after_advance_serves_closed_bars_then_the_current_open(
    venue: VenueHarness,
) -> None:
    await venue.advance(2)

    bars = await venue.port.fetch_ohlcv(SYMBOL, TIMEFRAME)

    assert ohlc(bars) == ohlc([candle(0), candle(1), opening(2)])
    assert [b.volume for b in bars] == [12.0, 12.0, 0.0]


async def test_fetch_ohlcv_since_and_limit_page_from_the_start_time(venue: VenueHarness) -> None:
    await venue.advance(3)

    page = await venue.port.fetch_ohlcv(SYMBOL, TIMEFRAME, since_ms=T0 + 60_000, limit=2)
    last_two = await venue.port.fetch_ohlcv(SYMBOL, TIMEFRAME, limit=2)

    assert ohlc(page) == ohlc([candle(1), candle(2)])
    assert ohlc(last_two) == ohlc([candle(2), opening(3)])


async def test_fetch_ohlcv_of_another_timeframe_raises_invalid_order(venue: VenueHarness) -> None:
    with pytest.raises(domain.InvalidOrder):
        await venue.port.fetch_ohlcv(SYMBOL, "1h")


async def test_fetch_ticker_last_is_the_current_open_inside_a_2bps_spread(
    venue: VenueHarness,
) -> None:
    await venue.advance()

    ticker = await venue.port.fetch_ticker(SYMBOL)

    assert ticker.last == candle(1).open
    assert ticker.bid < ticker.last < ticker.ask
    assert ticker.ask - ticker.bid == pytest.approx(ticker.last * 0.0002, abs=0.02)


async def test_fetch_order_book_levels_are_sorted_away_from_the_price(venue: VenueHarness) -> None:
    book = await venue.port.fetch_order_book(SYMBOL, 5)

    bids = [lvl.price for lvl in book.bids]
    asks = [lvl.price for lvl in book.asks]
    assert (len(bids), len(asks)) == (5, 5)
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < candle(0).open < asks[0]
    assert all(lvl.qty > 0 for lvl in book.bids + book.asks)


async def test_fetch_time_is_not_before_the_current_bar(venue: VenueHarness) -> None:
    await venue.advance()

    now_ms = await venue.port.fetch_time()

    assert now_ms >= T0 + 60_000


async def test_watch_candles_reports_the_close_and_the_next_open(venue: VenueHarness) -> None:
    # Arrange
    stream = venue.port.watch_candles(SYMBOL, TIMEFRAME)
    first = await next_of(stream)

    # Act
    await venue.advance()
    closed = await next_of(stream)
    opened = await next_of(stream)

    # Assert
    assert ohlc([first, closed, opened]) == ohlc([opening(0), candle(0), opening(1)])


async def test_watch_orders_reports_a_resting_order_then_its_cancel(venue: VenueHarness) -> None:
    # Arrange
    stream = venue.port.watch_orders(SYMBOL)
    await venue.port.create_order(order("c-watch", OrderType.LIMIT, "0.01", "80000"))
    placed = await next_of(stream)

    # Act
    await venue.port.cancel_order(ClientOrderId("c-watch"), SYMBOL)
    canceled = await next_of(stream)

    # Assert
    assert (placed.client_order_id, placed.status) == ("c-watch", OrderStatus.OPEN)
    assert (canceled.client_order_id, canceled.status) == ("c-watch", OrderStatus.CANCELED)
    assert canceled.price == Decimal(80000)


async def test_watch_orders_reports_a_resting_order_filling(venue: VenueHarness) -> None:
    stream = venue.port.watch_orders(SYMBOL)
    await venue.port.create_order(order("c-watch-2", OrderType.LIMIT, "0.01", "94990.25"))
    placed = await next_of(stream)

    await venue.advance()
    filled = await next_of(stream)

    assert placed.status is OrderStatus.OPEN
    assert (filled.status, filled.filled_qty) == (OrderStatus.FILLED, Decimal("0.01"))
