"""OCO order lists through ccxt's implicit API: one leg acts, the other expires."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from tradebot.sandbox import SandboxServer


def _oco(stop: str, limit: str, take_profit: str) -> dict[str, str]:
    return {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "quantity": "1",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": take_profit,
        "aboveClientOrderId": "tp-1",
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": stop,
        "belowPrice": limit,
        "belowTimeInForce": "GTC",
        "belowClientOrderId": "sl-1",
    }


async def _status(exchange: Any, client_id: str) -> tuple[str, float]:
    order = await exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": client_id})
    return order["status"], order["average"] or 0.0


async def test_oco_locks_the_amount_once(exchange: Any) -> None:
    # Act
    placed = await exchange.private_post_orderlist_oco(_oco("95", "94.9", "102"))
    # Assert
    assert placed["contingencyType"] == "OCO"
    assert len(placed["orderReports"]) == 2
    balance = await exchange.fetch_balance()
    assert balance["BTC"]["used"] == pytest.approx(1)


async def test_oco_take_profit_fill_expires_the_stop(sandbox: SandboxServer, exchange: Any) -> None:
    # Arrange: bar 0 walks 100 -> 97 -> 103 -> 100.5
    await exchange.private_post_orderlist_oco(_oco("95", "94.9", "102"))
    # Act
    await sandbox.advance(1)
    # Assert
    assert await _status(exchange, "tp-1") == ("closed", pytest.approx(102))
    assert (await _status(exchange, "sl-1"))[0] == "expired"
    balance = await exchange.fetch_balance()
    assert balance["BTC"]["total"] == pytest.approx(0)
    assert balance["USDT"]["free"] == pytest.approx(10000 + 102 - 0.102)


async def test_oco_stop_that_triggers_first_expires_the_take_profit(
    sandbox: SandboxServer, exchange: Any
) -> None:
    await exchange.private_post_orderlist_oco(_oco("98", "97.5", "102"))
    await sandbox.advance(1)
    assert await _status(exchange, "sl-1") == ("closed", pytest.approx(98))
    assert (await _status(exchange, "tp-1"))[0] == "expired"


async def test_oco_cancel_one_leg_cancels_the_list_and_unlocks(exchange: Any) -> None:
    await exchange.private_post_orderlist_oco(_oco("95", "94.9", "102"))
    await exchange.cancel_order(None, "BTC/USDT", params={"clientOrderId": "sl-1"})
    assert (await _status(exchange, "tp-1"))[0] == "canceled"
    balance = await exchange.fetch_balance()
    assert (balance["BTC"]["free"], balance["BTC"]["used"]) == (pytest.approx(1), 0)


async def test_oco_take_profit_below_price_is_refused(exchange: Any) -> None:
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        await exchange.private_post_orderlist_oco(_oco("95", "94.9", "99"))
    assert await exchange.fetch_open_orders("BTC/USDT") == []
