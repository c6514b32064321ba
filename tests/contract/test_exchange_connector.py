"""The ExchangeConnector contract: same calls, same observable results on every venue.

Runs against CcxtConnector→sandbox (real ccxt over loopback) and SimulatedExchange.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from contract_venues import START_USDT, SYMBOL, T0, VenueHarness
from contract_venues import order as _order

from tradebot.domain import errors as domain
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.port import Balance

SELL = OrderSide.SELL


async def test_load_markets_btc_usdt_rules(venue: VenueHarness) -> None:
    markets = await venue.port.load_markets()

    market = markets[SYMBOL]
    assert (market.base, market.quote) == ("BTC", "USDT")
    assert market.qty_step == Decimal("0.00001")
    assert market.price_step == Decimal("0.01")
    assert market.min_notional == Decimal(5)


async def test_market_buy_moves_balances_by_fills_and_fees(venue: VenueHarness) -> None:
    # Act
    await venue.port.create_order(_order("c-buy-1", OrderType.MARKET, "0.01"))
    await venue.settle()
    order = await venue.port.fetch_order(ClientOrderId("c-buy-1"), SYMBOL)
    balances = await venue.port.fetch_balance()
    fills = [f for f in await venue.port.fetch_my_trades(SYMBOL) if f.client_order_id == "c-buy-1"]

    # Assert
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == Decimal("0.01")
    assert sum(f.qty for f in fills) == Decimal("0.01")
    fee_base = sum(f.fee for f in fills if f.fee_asset == "BTC")
    fee_quote = sum(f.fee for f in fills if f.fee_asset == "USDT")
    spent = sum(f.notional for f in fills)
    assert 900 < spent < 1000
    assert balances["BTC"].total == Decimal("0.01") - fee_base
    assert balances["USDT"].total == START_USDT - spent - fee_quote


async def test_cancel_resting_limit_order_releases_its_quote(venue: VenueHarness) -> None:
    # Arrange: a bid far below the market rests
    placed = await venue.port.create_order(_order("c-lim-1", OrderType.LIMIT, "0.01", "80000"))
    open_ids = [o.client_order_id for o in await venue.port.fetch_open_orders(SYMBOL)]
    locked = (await venue.port.fetch_balance())["USDT"].locked

    # Act
    canceled = await venue.port.cancel_order(ClientOrderId("c-lim-1"), SYMBOL)
    looked_up = await venue.port.fetch_order(ClientOrderId("c-lim-1"), SYMBOL)
    after = (await venue.port.fetch_balance())["USDT"]

    # Assert
    assert placed.status is OrderStatus.OPEN
    assert open_ids == ["c-lim-1"]
    assert locked == Decimal(800)
    assert canceled.status is OrderStatus.CANCELED
    assert looked_up.status is OrderStatus.CANCELED
    assert (after.free, after.locked) == (START_USDT, Decimal(0))
    assert await venue.port.fetch_open_orders(SYMBOL) == []


async def test_fetch_order_by_client_id_returns_what_was_placed(venue: VenueHarness) -> None:
    await venue.port.create_order(_order("c-lim-2", OrderType.LIMIT, "0.002", "90000.5"))

    order = await venue.port.fetch_order(ClientOrderId("c-lim-2"), SYMBOL)

    assert (order.side, order.type, order.qty, order.price) == (
        OrderSide.BUY,
        OrderType.LIMIT,
        Decimal("0.002"),
        Decimal("90000.5"),
    )


async def test_oversized_order_raises_insufficient_funds(venue: VenueHarness) -> None:
    with pytest.raises(domain.InsufficientFunds):
        await venue.port.create_order(_order("c-big", OrderType.LIMIT, "1", "94000"))


async def test_below_min_notional_raises_invalid_order_and_places_nothing(
    venue: VenueHarness,
) -> None:
    with pytest.raises(domain.InvalidOrder, match="notional"):
        await venue.port.create_order(_order("c-tiny", OrderType.LIMIT, "0.00004", "94000"))

    with pytest.raises(domain.OrderNotFound):
        await venue.port.fetch_order(ClientOrderId("c-tiny"), SYMBOL)


async def test_unknown_order_lookups_and_cancels_raise_order_not_found(venue: VenueHarness) -> None:
    with pytest.raises(domain.OrderNotFound):
        await venue.port.fetch_order(ClientOrderId("never-sent"), SYMBOL)
    with pytest.raises(domain.OrderNotFound):
        await venue.port.cancel_order(ClientOrderId("never-sent"), SYMBOL)


async def test_cancel_filled_order_raises_order_not_found(venue: VenueHarness) -> None:
    await venue.port.create_order(_order("c-buy-2", OrderType.MARKET, "0.001"))
    await venue.settle()

    with pytest.raises(domain.OrderNotFound):
        await venue.port.cancel_order(ClientOrderId("c-buy-2"), SYMBOL)


async def test_fetch_balance_before_trading_shows_the_deposit_free(venue: VenueHarness) -> None:
    balances = await venue.port.fetch_balance()

    assert (balances["USDT"].free, balances["USDT"].locked) == (START_USDT, Decimal(0))


async def test_market_buy_pays_taker_fee_in_base_asset(venue: VenueHarness) -> None:
    # Act
    await venue.port.create_order(_order("c-buy-fee", OrderType.MARKET, "0.01"))
    await venue.settle()
    fills = await venue.port.fetch_my_trades(SYMBOL)
    balances = await venue.port.fetch_balance()

    # Assert: 0.1 % of 0.01 BTC, paid in BTC; the bar opens at 95000.25 (± the 2 bps book)
    assert [(f.fee_asset, f.fee, f.is_maker) for f in fills] == [("BTC", Decimal("0.00001"), False)]
    assert abs(fills[0].price - Decimal("95000.25")) < 20
    assert balances["BTC"] == Balance("BTC", Decimal("0.00999"), Decimal(0))
    assert balances["USDT"].free == START_USDT - fills[0].notional


async def test_market_sell_pays_fee_in_quote_asset(venue: VenueHarness) -> None:
    # Arrange
    await venue.port.create_order(_order("c-buy-3", OrderType.MARKET, "0.01"))
    await venue.settle()
    usdt_before = (await venue.port.fetch_balance())["USDT"].free

    # Act
    await venue.port.create_order(_order("c-sell-3", OrderType.MARKET, "0.005", None, SELL))
    await venue.settle()
    sold = await venue.port.fetch_order(ClientOrderId("c-sell-3"), SYMBOL)
    fills = [f for f in await venue.port.fetch_my_trades(SYMBOL) if f.client_order_id == "c-sell-3"]
    balances = await venue.port.fetch_balance()

    # Assert
    assert (sold.status, sold.filled_qty) == (OrderStatus.FILLED, Decimal("0.005"))
    assert [f.fee_asset for f in fills] == ["USDT"]
    assert fills[0].fee == (fills[0].notional * Decimal("0.001")).quantize(Decimal("1e-8"))
    assert balances["BTC"].total == Decimal("0.00499")
    assert balances["USDT"].free == usdt_before + fills[0].notional - fills[0].fee


async def test_limit_buy_below_market_rests_and_locks_qty_times_price(venue: VenueHarness) -> None:
    placed = await venue.port.create_order(_order("c-lim-3", OrderType.LIMIT, "0.01", "90000"))
    await venue.advance()
    still = await venue.port.fetch_order(ClientOrderId("c-lim-3"), SYMBOL)
    usdt = (await venue.port.fetch_balance())["USDT"]

    assert (placed.status, still.status, still.filled_qty) == (
        OrderStatus.OPEN,
        OrderStatus.OPEN,
        Decimal(0),
    )
    assert (usdt.free, usdt.locked) == (START_USDT - 900, Decimal(900))


async def test_limit_buy_fills_at_its_own_price_as_maker_when_the_bar_reaches_it(
    venue: VenueHarness,
) -> None:
    # Arrange: bar 0 opens at 95000.25 and trades down to 94985.25
    await venue.port.create_order(_order("c-lim-4", OrderType.LIMIT, "0.01", "94990.25"))

    # Act
    await venue.advance()
    filled = await venue.port.fetch_order(ClientOrderId("c-lim-4"), SYMBOL)
    fills = await venue.port.fetch_my_trades(SYMBOL)
    balances = await venue.port.fetch_balance()

    # Assert
    assert (filled.status, filled.avg_fill_price) == (OrderStatus.FILLED, Decimal("94990.25"))
    assert [(f.price, f.fee, f.fee_asset, f.is_maker) for f in fills] == [
        (Decimal("94990.25"), Decimal("0.00001"), "BTC", True)
    ]
    assert balances["USDT"] == Balance("USDT", START_USDT - Decimal("949.9025"), Decimal(0))
    assert balances["BTC"].total == Decimal("0.00999")


async def test_reused_client_id_returns_the_first_order_and_places_nothing(
    venue: VenueHarness,
) -> None:
    # Arrange
    first = await venue.port.create_order(_order("c-dup", OrderType.LIMIT, "0.01", "80000"))

    # Act: a retry under the same id, even with another price
    again = await venue.port.create_order(_order("c-dup", OrderType.LIMIT, "0.01", "81000"))
    open_orders = await venue.port.fetch_open_orders(SYMBOL)
    usdt = (await venue.port.fetch_balance())["USDT"]

    # Assert
    assert (again.client_order_id, again.price, again.status) == (
        first.client_order_id,
        Decimal(80000),
        OrderStatus.OPEN,
    )
    assert [o.client_order_id for o in open_orders] == ["c-dup"]
    assert usdt.locked == Decimal(800)


async def test_reused_client_id_of_a_filled_order_is_a_second_order_as_on_binance(
    venue: VenueHarness,
) -> None:
    # Binance refuses a duplicate client id only while the first order is open: the id of a
    # filled order makes a new, real order. So the bot never sends an id twice (the router
    # knows every id it used, across restarts); both venues follow Binance here.
    await venue.port.create_order(_order("c-dup-m", OrderType.MARKET, "0.01"))
    await venue.settle()

    again = await venue.port.create_order(_order("c-dup-m", OrderType.MARKET, "0.01"))
    await venue.settle()
    fills = await venue.port.fetch_my_trades(SYMBOL)

    assert again.qty == Decimal("0.01")
    assert len(fills) == 2
    assert (await venue.port.fetch_balance())["BTC"].total == Decimal("0.01998")


async def test_oversized_market_buy_raises_insufficient_funds_and_places_nothing(
    venue: VenueHarness,
) -> None:
    with pytest.raises(domain.InsufficientFunds):
        await venue.port.create_order(_order("c-big-m", OrderType.MARKET, "0.2"))

    with pytest.raises(domain.OrderNotFound):
        await venue.port.fetch_order(ClientOrderId("c-big-m"), SYMBOL)
    assert (await venue.port.fetch_balance())["USDT"].free == START_USDT


async def test_sell_without_the_base_asset_raises_insufficient_funds(venue: VenueHarness) -> None:
    with pytest.raises(domain.InsufficientFunds):
        await venue.port.create_order(_order("c-naked", OrderType.LIMIT, "0.01", "99000", SELL))


async def test_market_order_below_min_notional_names_the_notional(venue: VenueHarness) -> None:
    with pytest.raises(domain.InvalidOrder, match=r"notional 0\.95\d* USDT is below"):
        await venue.port.create_order(_order("c-tiny-m", OrderType.MARKET, "0.00001"))


async def test_limit_order_without_price_raises_invalid_order(venue: VenueHarness) -> None:
    with pytest.raises(domain.InvalidOrder, match="needs a positive price"):
        await venue.port.create_order(_order("c-noprice", OrderType.LIMIT, "0.01"))


async def test_unknown_symbol_raises_invalid_order(venue: VenueHarness) -> None:
    command = replace(_order("c-doge", OrderType.LIMIT, "10", "0.5"), symbol="DOGE/USDT")

    with pytest.raises(domain.InvalidOrder):
        await venue.port.create_order(command)
    with pytest.raises(domain.InvalidOrder):
        await venue.port.fetch_order(ClientOrderId("c-doge"), "DOGE/USDT")


async def test_fetch_my_trades_since_returns_only_later_fills(venue: VenueHarness) -> None:
    # Arrange: one market buy in bar 0, one a bar or two later
    await venue.port.create_order(_order("c-t1", OrderType.MARKET, "0.001"))
    await venue.settle()
    await venue.advance()
    second_bar_ms = await venue.port.fetch_time()
    await venue.port.create_order(_order("c-t2", OrderType.MARKET, "0.001"))
    await venue.settle()

    # Act
    every = await venue.port.fetch_my_trades(SYMBOL)
    later = await venue.port.fetch_my_trades(SYMBOL, since_ms=T0 + 60_000)

    # Assert
    assert [f.client_order_id for f in every] == ["c-t1", "c-t2"]
    assert [f.client_order_id for f in later] == ["c-t2"]
    assert second_bar_ms >= T0 + 60_000


async def test_fetch_my_trades_from_id_pages_by_trade_id_from_the_first(
    venue: VenueHarness,
) -> None:
    # Arrange: three market buys, each one trade
    for cid in ("c-i1", "c-i2", "c-i3"):
        await venue.port.create_order(_order(cid, OrderType.MARKET, "0.001"))
        await venue.settle()
    every = await venue.port.fetch_my_trades(SYMBOL)
    # Act: from the first trade (id 0 and on), two to a page; then after the second
    first_page = await venue.port.fetch_my_trades(SYMBOL, limit=2, from_id=0)
    after = await venue.port.fetch_my_trades(SYMBOL, from_id=int(every[1].trade_id) + 1)
    # Assert: Binance's fromId: the oldest first, from that id on
    assert [f.client_order_id for f in first_page] == ["c-i1", "c-i2"]
    assert [f.client_order_id for f in after] == ["c-i3"]
