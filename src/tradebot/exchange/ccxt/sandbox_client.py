"""A ccxt binance instance pointed at the local sandbox exchange.

Only instance configuration changes: every REST base URL is rewritten to the sandbox (so
anything it does not serve fails locally instead of reaching api.binance.com), the startup
calls to margin and currency endpoints are switched off, and Binance's spot error overrides
are merged in (ccxt applies them only to the api.binance.com host; pitfall P3 in
shared/notes/ccxt-against-local-binance.md).
"""

from __future__ import annotations

import re
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_API_SECRET = "sandbox-secret"  # noqa: S105 (the sandbox's documented default)

SANDBOX_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchOpenOrders": {"warnWithoutSymbol": False},
}


def sandbox_exchange(
    http_url: str,
    ws_url: str | None = None,
    api_key: str | None = DEFAULT_API_KEY,
    api_secret: str | None = DEFAULT_API_SECRET,
    pro: bool = False,
) -> Any:
    """Return ``ccxt.async_support.binance`` (or ``ccxt.pro.binance`` with ``pro``) for the sandbox.

    ``http_url`` is the sandbox root, e.g. ``http://127.0.0.1:8765``; ``ws_url`` defaults to
    ``ws://<host:port>/stream/ws``. Pass ``api_key=None`` for a keyless (public) client. The
    caller owns the instance and must ``await exchange.close()``.
    """
    http_url = http_url.rstrip("/")
    ws = ws_url or re.sub(r"^http", "ws", http_url) + "/stream/ws"
    config: dict[str, Any] = {"options": {k: _copy(v) for k, v in SANDBOX_OPTIONS.items()}}
    if api_key is not None:
        config["apiKey"] = api_key
    if api_secret is not None:
        config["secret"] = api_secret
    exchange = ccxt_pro.binance(config) if pro else ccxt_async.binance(config)
    _localize(exchange, http_url, ws)
    return exchange


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _localize(exchange: Any, http_url: str, ws_url: str) -> None:
    api = exchange.urls["api"]
    for key, value in list(api.items()):
        if isinstance(value, str) and value.startswith("http"):
            api[key] = re.sub(r"^https://[^/]+", http_url, value)
    if "ws" in api:
        ws_api_url = ws_url.replace("/stream/ws", "/ws-api/v3")
        for key, value in api["ws"].items():
            if isinstance(value, str):
                api["ws"][key] = ws_url
            else:
                for sub in value:
                    value[sub] = ws_api_url
    spot_exact = exchange.exceptions["spot"]["exact"]
    exchange.exceptions["exact"] = {**exchange.exceptions["exact"], **spot_exact}
