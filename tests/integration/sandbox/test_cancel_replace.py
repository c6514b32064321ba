"""``POST /api/v3/order/cancelReplace`` through unmodified ccxt: one request cancels an order
and places another, each part answered as Binance answers it."""

from __future__ import annotations

import json
from typing import Any

import ccxt
import pytest


def _replace(**extra: str) -> dict[str, str]:
    """Sell 1 BTC at market in place of the order ``extra`` names."""
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "MARKET",
        "quantity": "1",
        "newClientOrderId": "exit-1",
        "cancelReplaceMode": "STOP_ON_FAILURE",
        "cancelRestrictions": "ONLY_NEW",
    }
    return params | extra


async def _refusal(exchange: Any, params: dict[str, str]) -> dict[str, Any]:
    """The body of a refused cancel-replace (ccxt quotes it after the exchange's name)."""
    with pytest.raises(ccxt.BaseError) as refused:
        await exchange.private_post_order_cancelreplace(params)
    body: dict[str, Any] = json.loads(str(refused.value).partition(" ")[2])
    return body


async def _status(exchange: Any, client_id: str) -> str:
    order = await exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": client_id})
    return str(order["status"])


async def test_a_resting_stop_is_canceled_and_the_market_sell_filled_in_one_request(
    exchange: Any,
) -> None:
    # Arrange: a stop below the price (100) keeps the 1 BTC locked
    await exchange.create_order(
        "BTC/USDT", "limit", "sell", 1, 94.9, params={"stopPrice": 95, "clientOrderId": "stop-1"}
    )
    # Act
    answer = await exchange.private_post_order_cancelreplace(
        _replace(cancelOrigClientOrderId="stop-1")
    )
    # Assert
    assert (answer["cancelResult"], answer["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert answer["cancelResponse"]["origClientOrderId"] == "stop-1"
    assert answer["cancelResponse"]["status"] == "CANCELED"
    assert answer["newOrderResponse"]["clientOrderId"] == "exit-1"
    assert answer["newOrderResponse"]["status"] == "FILLED"
    assert [f["price"] for f in answer["newOrderResponse"]["fills"]] == ["100.00000000"]
    balance = await exchange.fetch_balance()
    assert (balance["BTC"]["total"], balance["USDT"]["free"]) == (0, pytest.approx(10099.9))


async def test_only_new_leaves_a_partly_filled_order_and_places_nothing(exchange: Any) -> None:
    # Arrange: a limit buy of 15 at 100 takes the 10 offered there and rests the rest
    await exchange.create_order(
        "BTC/USDT", "limit", "buy", 15, 100, params={"clientOrderId": "b-1"}
    )
    # Act
    body = await _refusal(exchange, _replace(cancelOrigClientOrderId="b-1"))
    # Assert
    assert (body["code"], body["msg"]) == (-2022, "Order cancel-replace failed.")
    assert body["data"]["cancelResult"] == "FAILURE"
    assert body["data"]["newOrderResult"] == "NOT_ATTEMPTED"
    assert body["data"]["cancelResponse"] == {
        "code": -2011,
        "msg": "Order was not canceled due to cancel restrictions.",
    }
    assert await _status(exchange, "b-1") == "open"
    with pytest.raises(ccxt.OrderNotFound):
        await _status(exchange, "exit-1")


async def test_an_unknown_order_stops_the_replace_before_the_new_order(exchange: Any) -> None:
    body = await _refusal(exchange, _replace(cancelOrigClientOrderId="gone"))
    assert body["code"] == -2022
    assert body["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert (await exchange.fetch_balance())["BTC"]["total"] == 1


async def test_a_new_order_refused_after_the_cancel_answers_409_and_the_cancel_stands(
    exchange: Any,
) -> None:
    # Arrange: a resting sell of 0.5; the new order asks for more USDT than the account has
    await exchange.create_order(
        "BTC/USDT", "limit", "sell", 0.5, 150, params={"clientOrderId": "s-1"}
    )
    params = _replace(cancelOrigClientOrderId="s-1", side="BUY", quantity="200")
    params |= {"type": "LIMIT", "price": "90", "timeInForce": "GTC"}
    # Act
    body = await _refusal(exchange, params)
    # Assert
    assert (body["code"], body["msg"]) == (-2021, "Order cancel-replace partially failed.")
    assert (body["data"]["cancelResult"], body["data"]["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert body["data"]["newOrderResponse"]["code"] == -2010
    assert await _status(exchange, "s-1") == "canceled"
    balance = await exchange.fetch_balance()
    assert (balance["BTC"]["free"], balance["BTC"]["used"]) == (1, 0)


async def test_a_new_order_that_breaks_a_filter_cancels_nothing(exchange: Any) -> None:
    await exchange.create_order(
        "BTC/USDT", "limit", "sell", 0.5, 150, params={"clientOrderId": "s-1"}
    )
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.private_post_order_cancelreplace(
            _replace(cancelOrigClientOrderId="s-1", quantity="0.01")
        )
    assert await _status(exchange, "s-1") == "open"


async def test_allow_failure_places_the_new_order_when_the_cancel_fails(exchange: Any) -> None:
    body = await _refusal(
        exchange, _replace(cancelOrigClientOrderId="gone", cancelReplaceMode="ALLOW_FAILURE")
    )
    assert body["code"] == -2021
    assert (body["data"]["cancelResult"], body["data"]["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert await _status(exchange, "exit-1") == "closed"


async def test_a_plain_cancel_honours_cancel_restrictions(exchange: Any) -> None:
    await exchange.create_order(
        "BTC/USDT", "limit", "buy", 15, 100, params={"clientOrderId": "b-1"}
    )
    with pytest.raises(ccxt.BaseError, match="cancel restrictions"):
        await exchange.cancel_order(
            None, "BTC/USDT", params={"clientOrderId": "b-1", "cancelRestrictions": "ONLY_NEW"}
        )
    with pytest.raises(ccxt.BaseError, match="-1145"):
        await exchange.cancel_order(
            None, "BTC/USDT", params={"clientOrderId": "b-1", "cancelRestrictions": "NEW"}
        )
    canceled = await exchange.cancel_order(
        None,
        "BTC/USDT",
        params={"clientOrderId": "b-1", "cancelRestrictions": "ONLY_PARTIALLY_FILLED"},
    )
    assert canceled["status"] == "canceled"
