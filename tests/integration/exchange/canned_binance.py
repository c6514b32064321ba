"""A tiny Binance-shaped HTTP peer on 127.0.0.1 that answers from a script of canned replies.

A real HTTP server (aiohttp), not a mock: CCXT signs, sends and parses as it would against
Binance. Each test queues the replies it needs per ``METHOD /path``; unscripted requests get
the defaults below (one market, a clock, a ticker, a balance), and every request is logged.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

API_KEY = "canned-key-9f8e7d6c5b4a"
API_SECRET = "canned-secret-0a1b2c3d4e5f"
NOW_MS = 1_733_011_200_000
SYMBOL_INFO = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "quoteAsset": "USDT",
    "baseAssetPrecision": 8,
    "quotePrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    "permissions": ["SPOT"],
    "cancelReplaceAllowed": True,
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01",
            "maxPrice": "1000000.00",
            "tickSize": "0.01",
        },
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.00", "stepSize": "0.00001"},
        {"filterType": "NOTIONAL", "minNotional": "5.00", "maxNotional": "9000000.00"},
    ],
}


def order_json(
    client_id: str, status: str = "NEW", qty: str = "0.00100", price: str = "90000.00"
) -> dict[str, object]:
    """A Binance order payload."""
    filled = qty if status == "FILLED" else "0.00000"
    return {
        "symbol": "BTCUSDT",
        "orderId": 7,
        "clientOrderId": client_id,
        "transactTime": NOW_MS,
        "time": NOW_MS,
        "updateTime": NOW_MS,
        "price": price,
        "origQty": qty,
        "executedQty": filled,
        "cummulativeQuoteQty": "0",
        "status": status,
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "workingTime": NOW_MS,
        "fills": [],
    }


@dataclass(slots=True)
class Reply:
    """One scripted answer."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def error(status: int, code: int, msg: str, **headers: str) -> Reply:
    """A Binance error reply ``{"code", "msg"}``."""
    return Reply(status, {"code": code, "msg": msg}, dict(headers))


class CannedBinance:
    """The server: ``script(method, path, *replies)``, then read ``requests``."""

    def __init__(self) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.http_url = ""
        self._runner: web.AppRunner | None = None

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``METHOD path`` with ``replies``, in order."""
        self.replies[f"{method} {path}"].extend(replies)

    def sent(self, method: str, path: str) -> list[dict[str, str]]:
        """Parameters of every request made to ``METHOD path``."""
        return [p for m, pa, p in self.requests if (m, pa) == (method, path)]

    async def __aenter__(self) -> CannedBinance:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.http_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path.partition("?")[2] + "&" + (await request.text())
        params = dict(parse_qsl(raw))
        self.requests.append((request.method, request.path, params))
        queue = self.replies[f"{request.method} {request.path}"]
        reply = queue.popleft() if queue else self._default(request.method, request.path, params)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return web.Response(
            status=reply.status,
            text=json.dumps(reply.body),
            content_type="application/json",
            headers=reply.headers,
        )

    def _default(self, method: str, path: str, params: dict[str, str]) -> Reply:
        if path == "/api/v3/exchangeInfo":
            return Reply(
                200,
                {
                    "timezone": "UTC",
                    "serverTime": NOW_MS,
                    "rateLimits": [],
                    "symbols": [SYMBOL_INFO],
                },
            )
        if path == "/api/v3/time":
            return Reply(200, {"serverTime": NOW_MS})
        if path == "/api/v3/ticker/24hr":
            return Reply(
                200,
                {
                    "symbol": "BTCUSDT",
                    "lastPrice": "90000.00",
                    "bidPrice": "89999.99",
                    "bidQty": "1",
                    "askPrice": "90000.01",
                    "askQty": "1",
                    "closeTime": NOW_MS,
                },
                {"X-MBX-USED-WEIGHT-1M": "12"},
            )
        if path == "/api/v3/account":
            return Reply(
                200,
                {
                    "balances": [{"asset": "USDT", "free": "1000.0", "locked": "0.0"}],
                    "updateTime": NOW_MS,
                },
            )
        if path == "/api/v3/order" and method == "POST":
            return Reply(200, order_json(params.get("newClientOrderId", "")))
        return error(404, -9999, f"canned server has no reply for {method} {path}")
