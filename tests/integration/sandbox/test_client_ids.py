"""Client order ids follow Binance's rules: the characters it allows, unique among open orders."""

from __future__ import annotations

import json
from typing import Any

import ccxt
import pytest

_LEGAL = r"legal range is '^[\.A-Z\:/a-z0-9_-]{1,36}$'."


def _illegal(name: str) -> dict[str, object]:
    return {"code": -1100, "msg": f"Illegal characters found in parameter '{name}'; {_LEGAL}"}


def _answer(error: pytest.ExceptionInfo[ccxt.BaseError]) -> Any:
    """The JSON body Binance (here the sandbox) answered, from ccxt's exception text."""
    return json.loads(str(error.value).removeprefix("binance "))


def _oco(list_id: str = "list-1", above: str = "tp-1", below: str = "sl-1") -> dict[str, str]:
    return {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "quantity": "0.1",
        "listClientOrderId": list_id,
        "aboveType": "LIMIT_MAKER",
        "abovePrice": "102",
        "aboveClientOrderId": above,
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": "95",
        "belowPrice": "94.9",
        "belowTimeInForce": "GTC",
        "belowClientOrderId": below,
    }


@pytest.mark.parametrize("client_id", ["a b", "a+b", "é", "x" * 37])
async def test_client_id_outside_binance_characters_is_refused_with_1100(
    exchange: Any, client_id: str
) -> None:
    with pytest.raises(ccxt.BadRequest) as refused:
        await exchange.create_order(
            "BTC/USDT", "limit", "buy", 1, 90, params={"clientOrderId": client_id}
        )
    assert _answer(refused) == _illegal("newClientOrderId")
    assert await exchange.fetch_open_orders("BTC/USDT") == []


async def test_client_id_with_every_allowed_character_round_trips(exchange: Any) -> None:
    client_id = "AZaz09.:/_-" + "x" * 25  # 36 characters, the longest allowed
    order = await exchange.create_order(
        "BTC/USDT", "limit", "buy", 1, 90, params={"clientOrderId": client_id}
    )
    fetched = await exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": client_id})
    assert order["clientOrderId"] == fetched["clientOrderId"] == client_id


@pytest.mark.parametrize(
    ("param", "oco"),
    [
        ("listClientOrderId", _oco(list_id="list 1")),
        ("aboveClientOrderId", _oco(above="tp+1")),
        ("belowClientOrderId", _oco(below="s" * 37)),
    ],
)
async def test_oco_list_and_leg_ids_follow_the_same_characters(
    exchange: Any, param: str, oco: dict[str, str]
) -> None:
    with pytest.raises(ccxt.BadRequest) as refused:
        await exchange.private_post_orderlist_oco(oco)
    assert _answer(refused) == _illegal(param)
    assert await exchange.fetch_open_orders("BTC/USDT") == []


async def test_cancel_id_follows_the_same_characters(exchange: Any) -> None:
    order = await exchange.create_order("BTC/USDT", "limit", "buy", 1, 90)
    with pytest.raises(ccxt.BadRequest) as refused:
        await exchange.cancel_order(order["id"], "BTC/USDT", params={"newClientOrderId": "c 1"})
    assert _answer(refused) == _illegal("newClientOrderId")
    assert len(await exchange.fetch_open_orders("BTC/USDT")) == 1


async def _by_client_id(exchange: Any, client_id: str) -> Any:
    return await exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": client_id})


async def test_reused_id_of_a_filled_order_makes_a_second_order(exchange: Any) -> None:
    # Arrange
    first = await exchange.create_order(
        "BTC/USDT", "market", "buy", 1, params={"clientOrderId": "b1"}
    )
    # Act: Binance accepts the id again once its order is closed: a second, real order
    second = await exchange.create_order(
        "BTC/USDT", "market", "buy", 1, params={"clientOrderId": "b1"}
    )
    # Assert
    assert second["id"] != first["id"]
    assert [t["order"] for t in await exchange.fetch_my_trades("BTC/USDT")] == [
        first["id"],
        second["id"],
    ]
    assert (await _by_client_id(exchange, "b1"))["id"] == second["id"]  # the newest
    balance = await exchange.fetch_balance()
    assert balance["BTC"]["total"] == pytest.approx(1 + 2 * 0.999)


async def test_reused_id_of_a_canceled_order_rests_and_cancels_by_client_id(exchange: Any) -> None:
    # Arrange
    params = {"clientOrderId": "b2"}
    old = await exchange.create_order("BTC/USDT", "limit", "buy", 1, 90, params=params)
    await exchange.cancel_order(None, "BTC/USDT", params=params)
    # Act
    new = await exchange.create_order("BTC/USDT", "limit", "buy", 1, 91, params=params)
    found = await _by_client_id(exchange, "b2")
    await exchange.cancel_order(None, "BTC/USDT", params=params)
    # Assert
    assert found["id"] == new["id"] != old["id"]
    assert found["price"] == 91
    statuses = {o["id"]: o["status"] for o in await exchange.fetch_orders("BTC/USDT")}
    assert statuses == {old["id"]: "canceled", new["id"]: "canceled"}


async def test_id_of_an_open_order_is_refused_with_2010(exchange: Any) -> None:
    # Arrange: b3 was used by a filled order, then by an open one
    await exchange.create_order("BTC/USDT", "market", "buy", 1, params={"clientOrderId": "b3"})
    await exchange.create_order("BTC/USDT", "limit", "buy", 1, 90, params={"clientOrderId": "b3"})
    # Act / Assert
    with pytest.raises(ccxt.InvalidOrder) as refused:
        await exchange.create_order(
            "BTC/USDT", "limit", "buy", 1, 89, params={"clientOrderId": "b3"}
        )
    assert _answer(refused) == {"code": -2010, "msg": "Duplicate order sent."}
    assert [o["price"] for o in await exchange.fetch_open_orders("BTC/USDT")] == [90]


async def test_oco_ids_of_an_open_list_are_refused_and_free_again_once_it_is_done(
    exchange: Any,
) -> None:
    # Arrange: an open list; its list id and leg ids are taken
    await exchange.private_post_orderlist_oco(_oco())
    refusals = []
    for oco in (_oco(above="tp-2", below="sl-2"), _oco(list_id="list-2", below="sl-2")):
        with pytest.raises(ccxt.InvalidOrder) as refused:
            await exchange.private_post_orderlist_oco(oco)
        refusals.append(_answer(refused))
    # Act: cancel the list, then send the same ids again
    await exchange.cancel_order(None, "BTC/USDT", params={"clientOrderId": "sl-1"})
    again = await exchange.private_post_orderlist_oco(_oco())
    # Assert
    assert refusals == [{"code": -2010, "msg": "Duplicate order sent."}] * 2
    assert again["listClientOrderId"] == "list-1"
    assert sorted(o["clientOrderId"] for o in await exchange.fetch_open_orders("BTC/USDT")) == [
        "sl-1",
        "tp-1",
    ]


async def test_list_id_may_equal_a_leg_id_as_on_binance(exchange: Any) -> None:
    placed = await exchange.private_post_orderlist_oco(_oco(list_id="sl-1"))
    assert placed["listClientOrderId"] == "sl-1"
