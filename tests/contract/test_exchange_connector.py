"""The ExchangeConnector contract: same calls, same observable results on every venue.

Runs against CcxtConnector→sandbox (real ccxt over loopback) and SimulatedExchange.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from contract_venues import START_USDT, SYMBOL, VenueHarness

from tradebot.domain import errors as domain
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType


def _order(
    cid: str, kind: OrderType, qty: str, price: str | None = None, side: OrderSide = OrderSide.BUY
) -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId(cid),
        SYMBOL,
        side,
        kind,
        Decimal(qty),
        None if price is None else Decimal(price),
    )


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
    assert (after.free, after.locked) == (START_USDT, 0)
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
