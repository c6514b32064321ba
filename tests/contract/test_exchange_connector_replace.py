"""The ExchangeConnector contract, cancel-replace: one call cancels a resting order and
places another, or places nothing, the same on every venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from contract_venues import START_USDT, SYMBOL, VenueHarness
from contract_venues import order as _order

from tradebot.domain import errors as domain
from tradebot.domain.orders import ClientOrderId, OrderStatus, OrderType

OLD, NEW = ClientOrderId("r-old"), ClientOrderId("r-new")


async def test_replace_cancels_the_resting_order_and_places_the_new_one(
    venue: VenueHarness,
) -> None:
    # Arrange: a bid far below the market rests, 800 USDT locked
    await venue.port.create_order(_order(OLD, OrderType.LIMIT, "0.01", "80000"))

    # Act
    canceled, placed = await venue.port.replace_order(
        OLD, _order(NEW, OrderType.LIMIT, "0.01", "81000")
    )
    usdt = (await venue.port.fetch_balance())["USDT"]

    # Assert
    assert canceled is not None
    assert (canceled.client_order_id, canceled.status) == (OLD, OrderStatus.CANCELED)
    assert (placed.client_order_id, placed.status) == (NEW, OrderStatus.OPEN)
    assert [o.client_order_id for o in await venue.port.fetch_open_orders(SYMBOL)] == [NEW]
    assert (usdt.free, usdt.locked) == (START_USDT - 810, Decimal(810))


async def test_replace_of_a_filled_order_places_nothing(venue: VenueHarness) -> None:
    await venue.port.create_order(_order(OLD, OrderType.MARKET, "0.001"))
    await venue.settle()

    with pytest.raises(domain.ReplaceRefused):
        await venue.port.replace_order(OLD, _order(NEW, OrderType.LIMIT, "0.01", "80000"))

    with pytest.raises(domain.OrderNotFound):
        await venue.port.fetch_order(NEW, SYMBOL)
    assert await venue.port.fetch_open_orders(SYMBOL) == []


async def test_replace_of_an_unknown_order_places_nothing(venue: VenueHarness) -> None:
    with pytest.raises(domain.ReplaceRefused):
        await venue.port.replace_order(
            ClientOrderId("never-sent"), _order(NEW, OrderType.LIMIT, "0.01", "80000")
        )

    assert await venue.port.fetch_open_orders(SYMBOL) == []


async def test_a_new_order_below_the_minimum_cancels_nothing(venue: VenueHarness) -> None:
    await venue.port.create_order(_order(OLD, OrderType.LIMIT, "0.01", "80000"))

    with pytest.raises(domain.InvalidOrder, match="notional"):
        await venue.port.replace_order(OLD, _order(NEW, OrderType.LIMIT, "0.00001", "80000"))

    assert [o.client_order_id for o in await venue.port.fetch_open_orders(SYMBOL)] == [OLD]
