"""Every CCXT exception the Binance adapter can raise maps to one tradebot type."""

from __future__ import annotations

import ccxt
import pytest

from tradebot.domain import errors as domain
from tradebot.exchange.ccxt.errors import DuplicateClientOrderId, IpBanned, translate


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (
            ccxt.DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too many"}'),
            domain.RateLimited,
        ),
        (
            ccxt.RateLimitExceeded('binance {"code":-1003,"msg":"Too much request weight used"}'),
            domain.RateLimited,
        ),
        (
            ccxt.InvalidOrder('binance {"code":-1015,"msg":"Too many new orders."}'),
            domain.RateLimited,
        ),
        (
            ccxt.OperationFailed('binance {"code":-1001,"msg":"Internal error"}'),
            domain.ExchangeUnavailable,
        ),
        (
            ccxt.ExchangeNotAvailable("binance GET http://127.0.0.1/api/v3/time"),
            domain.ExchangeUnavailable,
        ),
        (
            ccxt.RequestTimeout("binance GET http://127.0.0.1/api/v3/order"),
            domain.ExchangeUnavailable,
        ),
        (ccxt.OnMaintenance("binance System is under maintenance."), domain.ExchangeUnavailable),
        (
            ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key"}'),
            domain.AuthenticationError,
        ),
        (ccxt.PermissionDenied("binance no trading permission"), domain.AuthenticationError),
        (
            ccxt.InsufficientFunds(
                "binance Account has insufficient balance for requested action."
            ),
            domain.InsufficientFunds,
        ),
        (
            ccxt.BadRequest('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}'),
            domain.InvalidOrder,
        ),
        (ccxt.BadSymbol('binance {"code":-1121,"msg":"Invalid symbol."}'), domain.InvalidOrder),
        (
            ccxt.OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}'),
            domain.OrderNotFound,
        ),
        (
            ccxt.MarketClosed('binance {"code":-1013,"msg":"Market is closed."}'),
            domain.OrderRejected,
        ),
        (ccxt.ExchangeError('binance {"code":-9999,"msg":"???"}'), domain.ExchangeError),
    ],
)
def test_translate_ccxt_exception_maps_to_domain_type(
    raised: ccxt.BaseError, expected: type[domain.ExchangeError]
) -> None:
    assert type(translate(raised)) is expected


def test_translate_clock_skew_is_unavailable_and_says_sync_the_clock() -> None:
    error = ccxt.InvalidNonce(
        'binance {"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'
    )

    mapped = translate(error)

    assert isinstance(mapped, domain.ExchangeUnavailable)
    assert "clock" in str(mapped)


def test_translate_duplicate_order_is_a_distinct_invalid_order() -> None:
    error = ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}')

    mapped = translate(error)

    assert isinstance(mapped, DuplicateClientOrderId)
    assert isinstance(mapped, domain.InvalidOrder)


def test_translate_429_reads_retry_after_header() -> None:
    error = ccxt.DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"slow down"}')

    mapped = translate(error, headers={"Retry-After": "7"})

    assert isinstance(mapped, domain.RateLimited)
    assert mapped.retry_after_s == 7.0


def test_translate_418_is_an_ip_ban_with_default_two_minutes() -> None:
    error = ccxt.DDoSProtection('binance 418 I\'m a teapot {"code":-1003,"msg":"IP banned"}')

    mapped = translate(error)

    assert isinstance(mapped, IpBanned)
    assert mapped.retry_after_s == 120.0


def test_translate_revoked_key_after_success_is_authentication_not_rate_limit() -> None:
    # ccxt turns -2015 into DDoSProtection once a private call has succeeded (pitfall P6)
    error = ccxt.DDoSProtection(
        'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions"}'
    )

    assert isinstance(translate(error), domain.AuthenticationError)


def test_translate_redacts_secret_from_both_exceptions() -> None:
    error = ccxt.ExchangeNotAvailable("binance GET /x?apiKey=K3Y&signature=abcdef0123")

    mapped = translate(error, redact=lambda text: text.replace("K3Y", "***"))

    assert "K3Y" not in str(mapped)
    assert "K3Y" not in str(error)
