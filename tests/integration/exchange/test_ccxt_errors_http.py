"""CcxtConnector against canned Binance replies over loopback: typed errors, retries, orders."""

from __future__ import annotations

import asyncio
import decimal
import logging
from decimal import Decimal

import pytest
from canned_binance import API_KEY, API_SECRET, CannedBinance, Reply, error, order_json

from tradebot.domain import errors as domain
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.ccxt.connector import CcxtConnector

ORDER = "/api/v3/order"


def _buy(cid: str = "bot-0001", qty: str = "0.001", price: str = "90000") -> PlaceOrder:
    return PlaceOrder(
        ClientOrderId(cid), "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal(qty), Decimal(price)
    )


async def test_fetch_ticker_after_two_503s_succeeds_with_two_retries(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    # Arrange
    canned.script(
        "GET",
        "/api/v3/ticker/24hr",
        error(503, -1001, "Internal error"),
        error(503, -1001, "Internal error"),
    )

    # Act
    ticker = await connector.fetch_ticker("BTC/USDT")

    # Assert
    assert ticker.bid == 89999.99
    assert connector.metrics.events["retry"] == 2
    assert connector.metrics.endpoints["fetch_ticker"].errors["ExchangeUnavailable"] == 2


async def test_429_blocks_every_call_until_retry_after(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    # Arrange: Retry-After (1 s) is above this policy's max delay, so the call gives up
    canned.script(
        "GET", "/api/v3/ticker/24hr", error(429, -1003, "Too many requests", **{"Retry-After": "1"})
    )
    with pytest.raises(domain.RateLimited) as raised:
        await connector.fetch_ticker("BTC/USDT")

    # Act: the next call, to another endpoint, is refused locally until Retry-After passes
    with pytest.raises(domain.RateLimited, match="paused"):
        await connector.fetch_time()
    sent_while_blocked = len(canned.sent("GET", "/api/v3/time"))
    await asyncio.sleep(raised.value.retry_after_s)
    server_ms = await connector.fetch_time()

    # Assert
    assert raised.value.retry_after_s == 1.0
    assert sent_while_blocked == 0
    assert server_ms > 0
    assert connector.metrics.events["rate_limited"] == 1


async def test_used_weight_header_is_adopted_by_the_limiter(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    await connector.fetch_ticker("BTC/USDT")

    assert connector.limiter.used_weight() >= 12


async def test_create_order_insufficient_balance_raises_without_resending(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "POST", ORDER, error(400, -2010, "Account has insufficient balance for requested action.")
    )

    with pytest.raises(domain.InsufficientFunds, match="insufficient balance"):
        await connector.create_order(_buy())

    assert len(canned.sent("POST", ORDER)) == 1


async def test_create_order_below_min_notional_refused_before_sending(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    with pytest.raises(domain.InvalidOrder, match="below the minimum notional 5"):
        await connector.create_order(_buy(qty="0.00001", price="90000"))

    assert canned.sent("POST", ORDER) == []


async def test_create_order_timeout_resolved_by_lookup_never_resent(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    # Arrange: the order lands but its response is lost (the client times out at 1.5 s)
    canned.script("POST", ORDER, Reply(200, order_json("bot-0001"), delay_s=3.0))
    canned.script("GET", ORDER, Reply(200, order_json("bot-0001")))

    # Act
    order = await connector.create_order(_buy())

    # Assert
    assert order.status is OrderStatus.OPEN
    assert order.client_order_id == "bot-0001"
    assert len(canned.sent("POST", ORDER)) == 1
    assert canned.sent("GET", ORDER)[0]["origClientOrderId"] == "bot-0001"
    assert connector.metrics.events["order_resolved"] == 1


async def test_create_order_5xx_not_landed_is_resent_under_same_client_id(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "POST", ORDER, error(503, -1001, "Internal error; unable to process your request.")
    )
    canned.script("GET", ORDER, error(400, -2013, "Order does not exist."))

    order = await connector.create_order(_buy())

    posts = canned.sent("POST", ORDER)
    assert [p["newClientOrderId"] for p in posts] == ["bot-0001", "bot-0001"]
    assert order.status is OrderStatus.OPEN


async def test_create_order_duplicate_on_resend_returns_the_first_order(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "POST",
        ORDER,
        error(429, -1003, "Too many", **{"Retry-After": "0.01"}),
        error(400, -2010, "Duplicate order sent."),
    )
    canned.script("GET", ORDER, Reply(200, order_json("bot-0001", status="FILLED")))

    order = await connector.create_order(_buy())

    assert order.status is OrderStatus.FILLED
    assert connector.metrics.events["duplicate_refused"] == 1


async def test_create_order_lookup_also_failing_returns_unknown_order(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("POST", ORDER, error(503, -1001, "Internal error"))
    canned.script("GET", ORDER, *[error(503, -1001, "Internal error")] * 3)

    order = await connector.create_order(_buy())

    assert order.status is OrderStatus.UNKNOWN
    assert "resolve with fetch_order" in order.reason
    assert len(canned.sent("POST", ORDER)) == 1


async def test_cancel_unknown_order_raises_order_not_found(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("DELETE", ORDER, error(400, -2011, "Unknown order sent."))

    with pytest.raises(domain.OrderNotFound):
        await connector.cancel_order(ClientOrderId("nope"), "BTC/USDT")


async def test_clock_skew_raises_unavailable_naming_clock_sync(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    skew = error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    canned.script("GET", "/api/v3/account", skew, skew, skew)

    with pytest.raises(domain.ExchangeUnavailable, match="clock"):
        await connector.fetch_balance()


async def test_bad_key_raises_authentication_error_once(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script(
        "GET",
        "/api/v3/account",
        error(401, -2015, "Invalid API-key, IP, or permissions for action."),
    )

    with pytest.raises(domain.AuthenticationError, match="Invalid API-key"):
        await connector.fetch_balance()

    assert len(canned.sent("GET", "/api/v3/account")) == 1


async def test_ip_ban_418_counted_and_blocks_all_calls(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    canned.script("GET", "/api/v3/time", error(418, -1003, "IP banned", **{"Retry-After": "60"}))

    with pytest.raises(domain.RateLimited):
        await (
            connector.fetch_time()
        )  # attempt 1 gets the ban; the retry waits 60 s: cut short below

    assert connector.metrics.events["banned"] == 1
    assert connector.limiter.blocked_for() > 50
    assert len(canned.sent("GET", "/api/v3/time")) == 1


async def test_secrets_absent_from_logs_errors_and_repr(
    canned: CannedBinance, connector: CcxtConnector, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: CCXT logs request headers (with the key) at DEBUG; the server echoes both back
    caplog.set_level(logging.DEBUG)
    leak = f"key {API_KEY} secret {API_SECRET}"
    canned.script("GET", "/api/v3/account", error(400, -1100, leak))

    # Act
    with pytest.raises(domain.ExchangeError) as raised:
        await connector.fetch_balance()
    await connector.fetch_balance()

    # Assert
    texts = [caplog.text, str(raised.value), str(raised.value.__cause__), repr(connector)]
    assert "X-MBX-APIKEY" in caplog.text  # the header line was logged, redacted
    for text in texts:
        assert API_KEY not in text
        assert API_SECRET not in text


async def test_an_order_leaves_the_callers_decimal_rounding_as_it_was(
    canned: CannedBinance, connector: CcxtConnector
) -> None:
    # ccxt's amount_to_precision sets the thread's decimal context to ROUND_HALF_UP; the bot
    # works and writes its Decimals under Python's ROUND_HALF_EVEN in every mode, so a
    # decision text read 999.13 in paper where the backtest wrote 999.12
    decimal.getcontext().rounding = decimal.ROUND_HALF_EVEN

    await connector.create_order(_buy(qty="0.00150"))

    assert decimal.getcontext().rounding == decimal.ROUND_HALF_EVEN
    assert f"{Decimal('999.125'):.2f}" == "999.12"
