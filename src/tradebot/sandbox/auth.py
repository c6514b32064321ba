"""Binance's request signing, checked the way Binance checks it.

REST: HMAC-SHA256 (hex) over the raw, still percent-encoded query string followed by the raw
body, with ``signature`` last. WS-API: the params sorted by key and joined without encoding.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

from tradebot.sandbox.errors import ApiError, bad_param

MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000
FUTURE_TOLERANCE_MS = 1_000


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 hex digest of ``payload`` under ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def check_api_key(sent: str | None, expected: str) -> None:
    """Refuse a missing (-2014) or unknown (-2015) API key, both with status 401."""
    if not sent:
        raise ApiError(-2014, "API-key format invalid.", status=401)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def verify_rest(raw_query: str, raw_body: str, secret: str, now_ms: int) -> dict[str, str]:
    """Check the signature and timestamp of a signed REST call; return its parameters.

    Raises:
        ApiError: -1102 no signature/timestamp, -1022 bad signature, -1131 recvWindow too
            large, -1021 timestamp outside the recvWindow.
    """
    total = raw_query + raw_body
    payload, sep, signature = total.rpartition("signature=")
    if not sep or not signature:
        raise bad_param("signature")
    payload = payload.removesuffix("&")
    if not hmac.compare_digest(sign(secret, payload), signature.split("&")[0]):
        raise ApiError(-1022, "Signature for this request is not valid.")
    params = dict(parse_qsl(payload, keep_blank_values=True))
    check_timestamp(params, now_ms)
    return params


def check_timestamp(params: dict[str, str], now_ms: int) -> None:
    """Apply Binance's recvWindow rule to ``timestamp``.

    Raises:
        ApiError: -1102, -1131 or -1021.
    """
    raw_ts = params.get("timestamp", "")
    if not raw_ts.isdigit():
        raise bad_param("timestamp")
    window = params.get("recvWindow", str(DEFAULT_RECV_WINDOW_MS))
    if not window.isdigit() or int(window) > MAX_RECV_WINDOW_MS:
        raise ApiError(-1131, "recvWindow must be less than 60000")
    ts = int(raw_ts)
    if ts < now_ms - int(window) or ts > now_ms + FUTURE_TOLERANCE_MS:
        raise ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def verify_ws(params: dict[str, object], api_key: str, secret: str, now_ms: int) -> None:
    """Check a WS-API ``*.signature`` request: key, sorted-params HMAC and timestamp.

    Raises:
        ApiError: -2015 bad key, -1022 bad signature, -1021 stale timestamp.
    """
    check_api_key(str(params.get("apiKey", "")), api_key)
    signature = str(params.get("signature", ""))
    rest = {k: v for k, v in params.items() if k != "signature"}
    payload = "&".join(f"{k}={rest[k]}" for k in sorted(rest))
    if not hmac.compare_digest(sign(secret, payload), signature):
        raise ApiError(-1022, "Signature for this request is not valid.")
    check_timestamp({k: str(v) for k, v in rest.items()}, now_ms)
