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
