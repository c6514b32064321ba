"""Orders placed by unmodified ccxt: fills, fees, locks, partial fills and client ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tradebot.sandbox import SandboxServer


async def _balance(exchange: Any, asset: str) -> tuple[float, float]:
    balance = await exchange.fetch_balance()
    return balance[asset]["free"], balance[asset]["used"]


async def test_market_buy_after_advance_fills_exactly_at_next_open(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # Arrange: bar 0 closes; bar 1 opens at 101
    await sandbox.advance(1)
    # Act
    order = await exchange.create_order("BTC/USDT", "market", "buy", 1)
    # Assert
    assert order["status"] == "closed"
    assert order["average"] == pytest.approx(101)
    assert order["fee"] == {"currency": "BTC", "cost": pytest.approx(0.001)}
    assert await _balance(exchange, "USDT") == (pytest.approx(10000 - 101), 0)
    assert (await _balance(exchange, "BTC"))[0] == pytest.approx(1.999)


async def test_market_sell_pays_fee_in_quote(exchange: Any) -> None:
    order = await exchange.create_order("BTC/USDT", "market", "sell", 0.5)
    assert order["fee"]["currency"] == "USDT"
    assert order["fee"]["cost"] == pytest.approx(0.05)
    assert (await _balance(exchange, "USDT"))[0] == pytest.approx(10000 + 50 - 0.05)


async def test_market_buy_by_cost_sends_quote_order_qty(exchange: Any) -> None:
    order = await exchange.create_order("BTC/USDT", "market", "buy", None, params={"cost": 500})
    assert order["filled"] == pytest.approx(5)
    assert order["cost"] == pytest.approx(500)


async def test_large_market_order_walks_the_book_and_fills_partly(exchange: Any) -> None:
    # Act: 5 ask levels of 10 BTC at 100.0, 100.1, ... 100.4; ask for 60
    order = await exchange.create_order("BTC/USDT", "market", "buy", 60)
    # Assert
    assert order["status"] == "expired"
    assert order["filled"] == pytest.approx(50)
    assert order["remaining"] == pytest.approx(10)
    assert order["average"] == pytest.approx(100.2)
    assert len(order["trades"]) == 5
    book = await exchange.fetch_order_book("BTC/USDT")
    assert book["asks"] == []


async def test_a_market_buy_filled_in_part_spends_exactly_what_it_bought(exchange: Any) -> None:
    # Act: the 5 ask levels hold 50 BTC (100.0 to 100.4); ask for 60
    order = await exchange.create_order("BTC/USDT", "market", "buy", 60)
    # Assert: 5,010 USDT spent, 50 BTC less the 0.1 % fee received, nothing left locked
    assert order["filled"] == pytest.approx(50)
    assert await _balance(exchange, "USDT") == (pytest.approx(10000 - 5010), 0)
    assert await _balance(exchange, "BTC") == (pytest.approx(1 + 50 - 0.05), 0)


async def test_a_market_sell_filled_in_part_gives_up_exactly_what_it_sold(
    start_sandbox: Callable[..., Awaitable[SandboxServer]], make_exchange: Callable[..., Any]
) -> None:
    # Arrange: 100 BTC held; the 5 bid levels hold 50 BTC (100.0 down to 99.6)
    server = await start_sandbox(balances={"USDT": Decimal(0), "BTC": Decimal(100)})
    exchange = make_exchange(server)
    # Act
    order = await exchange.create_order("BTC/USDT", "market", "sell", 60)
    # Assert: 50 BTC gone (it kept 10 of them: 60 were asked), 4,990 USDT less the fee in
    assert order["status"] == "expired"
    assert order["filled"] == pytest.approx(50)
    assert await _balance(exchange, "BTC") == (pytest.approx(50), 0)
    assert await _balance(exchange, "USDT") == (pytest.approx(4990 - 4.99), 0)


async def test_limit_buy_locks_quote_and_fills_at_its_price_when_low_crosses(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # Arrange: bar 0 dips to 97
    order = await exchange.create_order("BTC/USDT", "limit", "buy", 2, 98)
    assert await _balance(exchange, "USDT") == (pytest.approx(10000 - 196), pytest.approx(196))
    # Act
    await sandbox.advance(1)
    # Assert
    filled = await exchange.fetch_order(order["id"], "BTC/USDT")
    assert filled["status"] == "closed"
    assert filled["average"] == pytest.approx(98)
    trades = await exchange.fetch_my_trades("BTC/USDT")
    assert trades[0]["takerOrMaker"] == "maker"
    assert await _balance(exchange, "USDT") == (pytest.approx(10000 - 196), 0)


async def test_limit_sell_below_price_takes_immediately_as_taker(exchange: Any) -> None:
    order = await exchange.create_order("BTC/USDT", "limit", "sell", 1, 99.9)
    assert order["status"] == "closed"
    assert order["average"] == pytest.approx(100)
    assert order["trades"][0]["fee"]["currency"] == "USDT"


async def test_cancel_order_unlocks_funds(exchange: Any) -> None:
    order = await exchange.create_order("BTC/USDT", "limit", "sell", 0.4, 150)
    assert (await _balance(exchange, "BTC"))[1] == pytest.approx(0.4)
    canceled = await exchange.cancel_order(order["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    assert await _balance(exchange, "BTC") == (pytest.approx(1), 0)


async def test_ioc_limit_fills_what_crosses_and_expires_the_rest(exchange: Any) -> None:
    order = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 15, 100, params={"timeInForce": "IOC"}
    )
    assert order["status"] == "expired"
    assert order["filled"] == pytest.approx(10)


async def test_fok_limit_that_cannot_fill_fully_does_not_fill_at_all(exchange: Any) -> None:
    order = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 15, 100, params={"timeInForce": "FOK"}
    )
    assert order["status"] == "expired"
    assert order["filled"] == 0


async def test_post_only_that_would_take_raises_order_immediately_fillable(
    exchange: Any,
) -> None:
    with pytest.raises(ccxt.OrderImmediatelyFillable, match="immediately match"):
        await exchange.create_order("BTC/USDT", "limit", "buy", 1, 100.5, params={"postOnly": True})


async def test_stop_loss_limit_triggers_when_price_falls_through_stop(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # Arrange: bar 0 dips to 97; stop at 98, limit 97.5
    order = await exchange.create_order(
        "BTC/USDT", "limit", "sell", 1, 97.5, params={"stopLossPrice": 98}
    )
    assert order["info"]["type"] == "STOP_LOSS_LIMIT"
    opened = await exchange.fetch_order(order["id"], "BTC/USDT")
    assert opened["info"]["isWorking"] is False
    # Act
    await sandbox.advance(1)
    # Assert: filled from the book repriced at the stop
    filled = await exchange.fetch_order(order["id"], "BTC/USDT")
    assert filled["status"] == "closed"
    assert filled["average"] == pytest.approx(98)


async def test_take_profit_limit_triggers_when_price_rises_to_it(
    sandbox: SandboxServer, exchange: Any
) -> None:
    order = await exchange.create_order(
        "BTC/USDT", "limit", "sell", 1, 102, params={"takeProfitPrice": 102}
    )
    assert order["info"]["type"] == "TAKE_PROFIT_LIMIT"
    await sandbox.advance(1)
    filled = await exchange.fetch_order(order["id"], "BTC/USDT")
    assert filled["status"] == "closed"
    assert filled["average"] == pytest.approx(102)


async def test_stop_that_would_trigger_now_is_refused(exchange: Any) -> None:
    with pytest.raises(ccxt.OrderImmediatelyFillable, match="trigger immediately"):
        await exchange.create_order(
            "BTC/USDT", "limit", "sell", 1, 100, params={"stopLossPrice": 101}
        )


async def test_duplicate_client_order_id_is_refused(exchange: Any) -> None:
    # Arrange
    params = {"clientOrderId": "bot-0001"}
    first = await exchange.create_order("BTC/USDT", "limit", "buy", 1, 90, params=params)
    # Act / Assert
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.create_order("BTC/USDT", "limit", "buy", 1, 90, params=params)
    assert len(await exchange.fetch_open_orders("BTC/USDT")) == 1
    by_client = await exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": "bot-0001"})
    assert by_client["id"] == first["id"]


async def test_insufficient_balance_raises_insufficient_funds(exchange: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("BTC/USDT", "limit", "buy", 200, 90)


async def test_lot_size_failure_raises_invalid_order(sandbox: SandboxServer, exchange: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await exchange.create_order("BTC/USDT", "limit", "buy", 9500, 1)


async def test_notional_failure_raises_bad_request(exchange: Any) -> None:
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 90)


async def test_unknown_order_raises_order_not_found(exchange: Any) -> None:
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("999", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order("999", "BTC/USDT")


async def test_history_lists_open_closed_orders_and_trades(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # Arrange
    await exchange.create_order("BTC/USDT", "market", "buy", 1)
    await exchange.create_order("BTC/USDT", "limit", "buy", 1, 80)
    # Act
    orders = await exchange.fetch_orders("BTC/USDT")
    closed = await exchange.fetch_closed_orders("BTC/USDT")
    open_orders = await exchange.fetch_open_orders()
    canceled = await exchange.cancel_all_orders("BTC/USDT")
    trades = await exchange.fetch_my_trades("BTC/USDT")
    # Assert
    assert [o["status"] for o in orders] == ["closed", "open"]
    assert len(closed) == 1
    assert len(open_orders) == 1
    assert [o["status"] for o in canceled] == ["canceled"]
    assert [t["side"] for t in trades] == ["buy"]


async def test_limit_order_without_time_in_force_is_refused_with_1102(exchange: Any) -> None:
    await exchange.load_markets()
    params = {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "90",
    }  # fmt: skip
    with pytest.raises(ccxt.BadRequest, match="timeInForce"):
        await exchange.private_post_order(params)
