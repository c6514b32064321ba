"""A cancel-replace on the wire, against canned Binance replies over loopback: what CCXT
sends, and how each refusal and a lost answer come back (never a blind resend)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from canned_binance import NOW_MS, SYMBOL_INFO, CannedBinance, Reply, error, order_json

from tradebot.domain import errors as domain
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.ccxt.connector import CcxtConnector

REPLACE = "/api/v3/order/cancelReplace"
ORDER = "/api/v3/order"
STOP = ClientOrderId("bot-0001-sl")


def _sell() -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId("bot-0002-ex"),
        "BTC/USDT",
        OrderSide.SELL,
        OrderType.LIMIT,
        Decimal("0.001"),
        Decimal("91000"),
    )


def _refused(status: int, code: int, msg: str, data: dict[str, object]) -> Reply:
    return Reply(status, {"code": code, "msg": msg, "data": data})


async def test_one_request_cancels_only_an_unfilled_stop_and_stops_on_failure(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canceled = order_json("cancel-xyz", status="CANCELED") | {"origClientOrderId": STOP}
    placed = order_json("bot-0002-ex", qty="0.00100", price="91000.00") | {"side": "SELL"}
    canned.script(
        "POST",
        REPLACE,
        Reply(200, {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
                    "cancelResponse": canceled, "newOrderResponse": placed}),
    )  # fmt: skip

    old, new = await connector.replace_order(STOP, _sell())

    [sent] = canned.sent("POST", REPLACE)
    assert {k: sent[k] for k in ("cancelOrigClientOrderId", "cancelRestrictions",
                                 "cancelReplaceMode", "newClientOrderId", "side", "type",
                                 "quantity", "price")} == {
        "cancelOrigClientOrderId": STOP, "cancelRestrictions": "ONLY_NEW",
        "cancelReplaceMode": "STOP_ON_FAILURE", "newClientOrderId": "bot-0002-ex",
        "side": "SELL", "type": "LIMIT", "quantity": "0.001", "price": "91000",
    }  # fmt: skip
    assert "cancelOrderId" not in sent
    assert old is not None
    assert (old.client_order_id, old.status) == (STOP, OrderStatus.CANCELED)
    assert (new.client_order_id, new.status) == ("bot-0002-ex", OrderStatus.OPEN)
    assert canned.sent("POST", ORDER) == []


async def test_a_stop_that_sold_in_part_is_refused_once_and_named(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "POST",
        REPLACE,
        _refused(400, -2022, "Order cancel-replace failed.",
                 {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                  "cancelResponse": {"code": -2011, "msg":
                                     "Order was not canceled due to cancel restrictions."},
                  "newOrderResponse": None}),
    )  # fmt: skip

    with pytest.raises(domain.ReplaceRefused) as refused:
        await connector.replace_order(STOP, _sell())

    assert str(refused.value) == (
        "cancel-replace refused: Order cancel-replace failed. (code -2022): cancel FAILURE "
        "(Order was not canceled due to cancel restrictions.), new order NOT_ATTEMPTED"
    )
    assert len(canned.sent("POST", REPLACE)) == 1
    assert canned.sent("GET", ORDER) == []


async def test_a_new_order_refused_after_the_cancel_is_refused_once(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "POST",
        REPLACE,
        _refused(409, -2021, "Order cancel-replace partially failed.",
                 {"cancelResult": "SUCCESS", "newOrderResult": "FAILURE",
                  "cancelResponse": order_json("x", status="CANCELED"),
                  "newOrderResponse": {"code": -2010, "msg": "Account has insufficient "
                                       "balance for requested action."}}),
    )  # fmt: skip

    with pytest.raises(domain.ReplaceRefused, match="cancel SUCCESS, new order FAILURE"):
        await connector.replace_order(STOP, _sell())

    assert len(canned.sent("POST", REPLACE)) == 1


async def test_a_lost_answer_is_resolved_by_looking_the_new_order_up(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("POST", REPLACE, error(503, -1001, "Internal error."))
    canned.script("GET", ORDER, Reply(200, order_json("bot-0002-ex", status="FILLED")))

    old, new = await connector.replace_order(STOP, _sell())

    assert old is None  # the stop's fate was in the lost answer: the bot looks it up
    assert (new.client_order_id, new.status) == ("bot-0002-ex", OrderStatus.FILLED)
    assert len(canned.sent("POST", REPLACE)) == 1
    assert canned.sent("GET", ORDER)[0]["origClientOrderId"] == "bot-0002-ex"


async def test_a_market_that_does_not_allow_it_is_refused_before_anything_is_sent(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    info = SYMBOL_INFO | {"cancelReplaceAllowed": False}
    canned.script(
        "GET",
        "/api/v3/exchangeInfo",
        Reply(200, {"timezone": "UTC", "serverTime": NOW_MS, "rateLimits": [], "symbols": [info]}),
    )

    with pytest.raises(domain.ReplaceRefused, match="BTC/USDT does not allow cancel-replace"):
        await connector.replace_order(STOP, _sell())

    assert canned.sent("POST", REPLACE) == []
