"""VenueRouter: each symbol's calls go to its venue; the clock is the earliest venue's; the
balances add up; a symbol on two venues or on none is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import make_market
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderType
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.exchange.simulated_connector import SimulatedConnector
from tradebot.exchange.simulated_market import CandleHistory
from tradebot.exchange.venues import VenueAccount, VenueRouter, accounts_of

T0 = 1_704_067_200_000
M = 60_000
BTC, ETH = "BTC/USDT", "ETH/USDT"


def venue(symbol: str, usdt: int, start_ms: int = T0) -> SimulatedConnector:
    bars = [Candle(T0 + i * M, 100.0, 103.0, 97.0, 101.0, 5.0) for i in range(6)]
    sim = SimulatedExchange([make_market(symbol, qty_step="0.001")], {"USDT": Decimal(usdt)})
    return SimulatedConnector(sim, CandleHistory({symbol: bars}, "1m", start_ms))


def router() -> tuple[VenueRouter, SimulatedConnector, SimulatedConnector]:
    a, b = venue(BTC, 1000), venue(ETH, 300, T0 + 2 * M)
    return VenueRouter([VenueAccount("a", a, (BTC,)), VenueAccount("b", b, (ETH,))]), a, b


async def test_venue_router_sends_each_symbols_order_to_its_venue() -> None:
    routed, a, b = router()
    buy = PlaceOrder(
        ClientOrderId("tb-ETHUSDT-1-en"), ETH, OrderSide.BUY, OrderType.MARKET, Decimal(1)
    )

    await routed.create_order(buy)

    assert [o.client_order_id for o in await b.fetch_open_orders(ETH)] == ["tb-ETHUSDT-1-en"]
    assert await a.fetch_open_orders() == []
    assert [o.symbol for o in await routed.fetch_open_orders()] == [ETH]


async def test_venue_router_clock_is_the_earliest_and_balances_add_up() -> None:
    routed, a, b = router()

    now = await routed.fetch_time()
    balances = await routed.fetch_balance()
    markets = await routed.load_markets()

    assert now == min(await a.fetch_time(), await b.fetch_time())
    assert balances["USDT"].total == Decimal(1300)
    assert set(markets) == {BTC, ETH}


def test_venue_router_refuses_a_symbol_on_two_venues_or_on_none() -> None:
    a, b = venue(BTC, 1), venue(BTC, 1)
    with pytest.raises(ValueError, match="BTC/USDT is on venues a and b"):
        VenueRouter([VenueAccount("a", a, (BTC,)), VenueAccount("b", b, (BTC,))])
    routed, _, _ = router()
    with pytest.raises(ValueError, match=r"no venue \(a, b\) trades SOL/USDT"):
        routed.account_of("SOL/USDT")


def test_accounts_of_a_plain_connector_is_the_one_account() -> None:
    a = venue(BTC, 1)
    routed, _, _ = router()

    assert accounts_of(a, [BTC]) == [VenueAccount(None, a, (BTC,))]
    assert [(x.id, x.symbols) for x in accounts_of(routed, [ETH])] == [("b", (ETH,))]
