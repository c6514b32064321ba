"""The one place where CCXT exceptions become tradebot errors.

Callers decide by the tradebot type, never by message text. The map goes by CCXT exception
type first and by Binance error code where CCXT's type is ambiguous (``-1003``/``-1015`` rate
limits that arrive with status 400, ``-2010`` which covers both "insufficient balance" and
"duplicate order", ``-1021`` clock skew, ``-2015`` on a key that was valid a moment ago).
The original exception stays reachable as ``__cause__`` with its text redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

import ccxt

from tradebot.domain import errors as domain

_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_STATUS = re.compile(r"^\S+ (418|429) ")
_RATE_LIMIT_CODES = frozenset({-1003, -1015})
_AUTH_CODES = frozenset({-1022, -2014, -2015})
_REPLACE_CODES = frozenset({-2021, -2022})
"""A cancel-replace of which a part failed (-2021: one part did, -2022: none): CCXT calls
both a bad response, which would read as "maybe sent" and be retried."""
_DUPLICATE = "Duplicate order sent."
_INSUFFICIENT = "insufficient balance"
DEFAULT_BAN_S = 120.0
"""Binance bans for at least two minutes after a 418; used when no Retry-After is sent."""


class IpBanned(domain.RateLimited):
    """HTTP 418: the IP is banned after ignoring 429s. Counted separately: it must never happen."""


class DuplicateClientOrderId(domain.InvalidOrder):
    """Binance refused an order because its client order id is still open: the first landed."""


def binance_code(error: BaseException) -> int | None:
    """Return the Binance error code quoted in a CCXT exception's text, if any."""
    match = _CODE.search(str(error))
    return int(match.group(1)) if match else None


def http_status(error: BaseException) -> int | None:
    """Return 418 or 429 when CCXT raised for that HTTP status (it prefixes it to the text)."""
    match = _STATUS.match(str(error))
    return int(match.group(1)) if match else None


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Read ``Retry-After`` (seconds) from response headers, case-insensitively."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _venue_body(error: BaseException) -> dict[str, object] | None:
    # CCXT's text is "binance <body or msg>": the venue's JSON body, when it is one
    _, _, rest = str(error).partition(" ")
    start = rest.find("{")
    if start < 0:
        return None
    try:
        body = json.loads(rest[start:])
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _venue_message(error: BaseException) -> str:
    # the venue's own msg when the body is JSON, else CCXT's text after the exchange's name
    body = _venue_body(error)
    if body is not None and "msg" in body:
        return f"{body['msg']} (code {body.get('code')})"
    text = str(error)
    return text.partition(" ")[2] or text


def _replace_parts(error: BaseException) -> str:
    # "msg (code): cancel FAILURE (its msg), new order NOT_ATTEMPTED" from Binance's data
    text = _venue_message(error)
    data = (_venue_body(error) or {}).get("data")
    if not isinstance(data, dict):
        return text
    parts = []
    for part, result, answer in (
        ("cancel", "cancelResult", "cancelResponse"),
        ("new order", "newOrderResult", "newOrderResponse"),
    ):
        reply, failed = data.get(answer), data.get(result) == "FAILURE"
        why = reply.get("msg") if failed and isinstance(reply, dict) else None
        parts.append(f"{part} {data.get(result)}" + (f" ({why})" if why else ""))
    return f"{text}: {', '.join(parts)}"


def _rate_limited(error: BaseException, headers: Mapping[str, str] | None) -> domain.RateLimited:
    wait = retry_after_s(headers)
    status = http_status(error)
    if status == 418:
        wait = DEFAULT_BAN_S if wait is None else wait
        return IpBanned(
            f"exchange banned this IP (HTTP 418) for {wait:.0f}s: calls are paused; "
            "check that no other program uses the same key",
            retry_after_s=wait,
        )
    return domain.RateLimited(
        f"exchange rate limit hit ({_venue_message(error)}): pausing all calls",
        retry_after_s=0.0 if wait is None else wait,
    )


def _by_code(error: BaseException, code: int | None) -> domain.ExchangeError | None:
    # Binance codes that CCXT's type gets wrong or leaves ambiguous.
    if code == -1021:
        return domain.ExchangeUnavailable(
            "exchange rejected the request timestamp (code -1021): the local clock is out of "
            "sync with the exchange; sync the system clock (NTP) or enable time adjustment"
        )
    if code in _AUTH_CODES:
        return domain.AuthenticationError(
            f"exchange refused the API key or signature: {_venue_message(error)}; check the "
            "key, secret, IP whitelist and trading permission"
        )
    if code in _REPLACE_CODES:
        return domain.ReplaceRefused(f"cancel-replace refused: {_replace_parts(error)}")
    if code == -2010 and _DUPLICATE in str(error):
        return DuplicateClientOrderId(f"order refused: {_venue_message(error)}")
    if code == -2010 and _INSUFFICIENT in str(error).lower():
        return domain.InsufficientFunds(f"order refused: {_venue_message(error)}")
    return None


_TYPE_MAP: tuple[tuple[type[BaseException], type[domain.ExchangeError], str], ...] = (
    (ccxt.InsufficientFunds, domain.InsufficientFunds, "order refused"),
    (ccxt.OrderNotFound, domain.OrderNotFound, "order not found"),
    (ccxt.InvalidOrder, domain.InvalidOrder, "order refused"),
    (ccxt.BadSymbol, domain.InvalidOrder, "unknown symbol"),
    (ccxt.BadRequest, domain.InvalidOrder, "request refused"),
    (ccxt.OperationRejected, domain.OrderRejected, "request refused"),
    (ccxt.AuthenticationError, domain.AuthenticationError, "authentication failed"),
    (ccxt.RequestTimeout, domain.ExchangeUnavailable, "exchange timed out"),
    (ccxt.OnMaintenance, domain.ExchangeUnavailable, "exchange is under maintenance"),
    (ccxt.OperationFailed, domain.ExchangeUnavailable, "exchange unavailable"),
    (ccxt.NotSupported, domain.ExchangeError, "not supported by the exchange"),
)


def translate(
    error: BaseException,
    *,
    headers: Mapping[str, str] | None = None,
    redact: Callable[[str], str] = str,
) -> domain.ExchangeError:
    """Return the tradebot error for a CCXT exception (the caller raises it ``from`` error).

    ``headers`` are the failed response's headers (for ``Retry-After``); ``redact`` scrubs
    secrets from the text, which also replaces the CCXT exception's own args.
    """
    error.args = tuple(redact(str(arg)) for arg in error.args)
    code = binance_code(error)
    if isinstance(error, ccxt.DDoSProtection | ccxt.RateLimitExceeded) or code in _RATE_LIMIT_CODES:
        if code == -2015 and http_status(error) is None:
            return domain.AuthenticationError(
                f"exchange refused the API key ({_venue_message(error)}): it may be revoked"
            )
        return _rate_limited(error, headers)
    mapped = _by_code(error, code)
    if mapped is not None:
        return mapped
    for ccxt_type, ours, what in _TYPE_MAP:
        if isinstance(error, ccxt_type):
            return ours(f"{what}: {_venue_message(error)}")
    return domain.ExchangeError(f"exchange error: {_venue_message(error)}")
