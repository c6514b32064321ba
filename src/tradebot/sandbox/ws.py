"""Websocket side: Binance market streams (live SUBSCRIBE protocol) and the WS-API user stream.

Market connections are served on ``/stream/ws[/n]`` and ``/ws[/n]`` (raw events) and on
``/stream?streams=a/b`` (combined ``{stream, data}`` wrapper). The spot user-data stream is
``userDataStream.subscribe.signature`` on ``/ws-api/v3``, as ccxt.pro 4.5.90 uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from tradebot.sandbox import streams
from tradebot.sandbox.auth import verify_ws
from tradebot.sandbox.errors import ApiError
from tradebot.sandbox.events import (
    BalancesChanged,
    BookChanged,
    Event,
    OrderUpdated,
    PriceMoved,
    TradePrinted,
)
from tradebot.sandbox.venue import Venue

log = logging.getLogger(__name__)
_CLOSE_ABNORMAL = 1011
_QUEUE_MAX = 10_000


@dataclass(eq=False)
class Connection:
    """One websocket client: what it subscribed to and its outgoing queue."""

    ws: web.WebSocketResponse
    combined: bool = False
    streams: set[str] = field(default_factory=set)
    user_subscription: int | None = None
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(_QUEUE_MAX))

    def push(self, stream: str, data: dict[str, object]) -> None:
        """Queue a market event if subscribed (a slow reader loses events, like Binance)."""
        if stream not in self.streams:
            return
        payload = {"stream": stream, "data": data} if self.combined else data
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(json.dumps(payload))


class Hub:
    """Fans venue events out to websocket connections."""

    def __init__(
        self,
        venue_getter: Callable[[], Venue],
        api_key: str,
        api_secret: str,
        disconnect_after_s: Callable[[], float],
    ) -> None:
        self._venue = venue_getter
        self._api_key = api_key
        self._api_secret = api_secret
        self._disconnect_after_s = disconnect_after_s
        self.connections: set[Connection] = set()
        self._next_subscription = 0
        self._touch_pending: set[str] = set()

    # ---- fan-out -------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Turn one venue event into the stream messages subscribers wait for."""
        if not self.connections:
            return
        venue = self._venue()
        if isinstance(event, PriceMoved):
            self._price_moved(venue, event)
        elif isinstance(event, BookChanged):
            name = event.venue_id.lower()
            vid, diff = event.venue_id, event.diff
            self._send(f"{name}@depth", lambda: streams.depth_event(venue, vid, diff))
            self._send(f"{name}@bookTicker", lambda: streams.book_ticker_event(venue, vid))
        elif isinstance(event, TradePrinted):
            name = event.venue_id.lower()
            trade = event
            self._send(f"{name}@trade", lambda: streams.trade_event(trade, aggregate=False))
            self._send(f"{name}@aggTrade", lambda: streams.trade_event(trade, aggregate=True))
        elif isinstance(event, OrderUpdated):
            self._send_user(event.report)
        elif isinstance(event, BalancesChanged):
            self._send_user(streams.account_position(venue, event.assets))

    def _price_moved(self, venue: Venue, event: PriceMoved) -> None:
        vid = event.venue_id
        name = vid.lower()
        closed = event.bar_closed
        self._send(
            f"{name}@kline_{venue.series[vid].timeframe}",
            lambda: streams.kline_event(venue, vid, closed),
        )
        if not closed:
            self._send(f"{name}@miniTicker", lambda: streams.ticker_event(venue, vid, mini=True))
            self._send(f"{name}@ticker", lambda: streams.ticker_event(venue, vid, mini=False))

    def _send(self, stream: str, message: Callable[[], dict[str, object]]) -> None:
        """Push ``stream``'s message, built only when a connection subscribes to it: a 24h
        ticker reads a day of bars, and was built at every price move for no reader."""
        variants = (stream, f"{stream}@100ms") if stream.endswith("@depth") else (stream,)
        readers = [c for c in self.connections if any(v in c.streams for v in variants)]
        if not readers:
            return
        data = message()
        for conn in readers:
            for variant in variants:
                conn.push(variant, data)

    def _send_user(self, event: dict[str, object]) -> None:
        for conn in self.connections:
            if conn.user_subscription is not None:
                message = {"subscriptionId": conn.user_subscription, "event": event}
                with contextlib.suppress(asyncio.QueueFull):
                    conn.queue.put_nowait(json.dumps(message))

    def depth_snapshot_served(self, vid: str) -> None:
        """Schedule one diff after a REST snapshot so a fresh local book can sync at once."""
        stream = f"{vid.lower()}@depth"
        wanted = any(
            stream in c.streams or f"{stream}@100ms" in c.streams for c in self.connections
        )
        if wanted and vid not in self._touch_pending:
            self._touch_pending.add(vid)
            asyncio.get_running_loop().call_later(0.05, self._touch, vid)

    def _touch(self, vid: str) -> None:
        self._touch_pending.discard(vid)
        venue = self._venue()
        self.publish(BookChanged(vid, venue.books[vid].touch()))

    async def disconnect_all(self) -> int:
        """Drop every websocket with close code 1011 (fault injection); return how many."""
        conns = list(self.connections)
        for conn in conns:
            await conn.ws.close(code=_CLOSE_ABNORMAL, message=b"sandbox fault: disconnect")
        return len(conns)

    # ---- connection handlers -------------------------------------------------------------

    async def market_handler(self, request: web.Request) -> web.WebSocketResponse:
        """Serve a market-stream connection."""
        conn = await self._open(request)
        conn.combined = request.path.rstrip("/") == "/stream"
        conn.streams.update(s for s in request.query.get("streams", "").split("/") if s)
        await self._serve(conn, self._on_market_message)
        return conn.ws

    async def ws_api_handler(self, request: web.Request) -> web.WebSocketResponse:
        """Serve a WS-API connection (user-data stream subscription, ping, time)."""
        conn = await self._open(request)
        await self._serve(conn, self._on_api_message)
        return conn.ws

    async def _open(self, request: web.Request) -> Connection:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = Connection(ws)
        self.connections.add(conn)
        return conn

    async def _serve(
        self, conn: Connection, on_message: Callable[[Connection, object], dict[str, object] | None]
    ) -> None:
        writer = asyncio.create_task(self._write(conn))
        dropper = self._schedule_drop(conn)
        try:
            async for msg in conn.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                reply = on_message(conn, _loads(msg.data))
                if reply is not None:
                    await conn.queue.put(json.dumps(reply))
        finally:
            self.connections.discard(conn)
            writer.cancel()
            if dropper is not None:
                dropper.cancel()

    def _schedule_drop(self, conn: Connection) -> asyncio.TimerHandle | None:
        after = self._disconnect_after_s()
        if after <= 0:
            return None
        loop = asyncio.get_running_loop()
        return loop.call_later(after, lambda: loop.create_task(conn.ws.close(code=_CLOSE_ABNORMAL)))

    async def _write(self, conn: Connection) -> None:
        while not conn.ws.closed:
            text = await conn.queue.get()
            with contextlib.suppress(ConnectionError):
                await conn.ws.send_str(text)

    def _on_market_message(self, conn: Connection, msg: object) -> dict[str, object] | None:
        if not isinstance(msg, dict):
            return {"error": {"code": 3, "msg": "Invalid JSON: expected an object"}, "id": None}
        method, params, req_id = msg.get("method"), msg.get("params") or [], msg.get("id")
        if method == "SUBSCRIBE":
            conn.streams.update(str(p) for p in params)
            return {"result": None, "id": req_id}
        if method == "UNSUBSCRIBE":
            conn.streams.difference_update(str(p) for p in params)
            return {"result": None, "id": req_id}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(conn.streams), "id": req_id}
        return {
            "error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"},
            "id": req_id,
        }

    def _on_api_message(self, conn: Connection, msg: object) -> dict[str, object] | None:
        if not isinstance(msg, dict):
            return {"id": None, "status": 400, "error": {"code": -1100, "msg": "Invalid JSON"}}
        req_id, method = msg.get("id"), msg.get("method")
        params = msg.get("params") or {}
        now_ms = int(time.time() * 1000)
        try:
            if method == "userDataStream.subscribe.signature" and isinstance(params, dict):
                verify_ws(params, self._api_key, self._api_secret, now_ms)
                conn.user_subscription = self._next_subscription
                self._next_subscription += 1
                return {
                    "id": req_id,
                    "status": 200,
                    "result": {"subscriptionId": conn.user_subscription},
                }
            if method == "ping":
                return {"id": req_id, "status": 200, "result": {}}
            if method == "time":
                return {"id": req_id, "status": 200, "result": {"serverTime": now_ms}}
            log.warning("sandbox ws-api: method %r is not served", method)
            raise ApiError(-1100, f"Method {method!r} is not served by the tradebot sandbox.")
        except ApiError as e:
            return {"id": req_id, "status": e.status, "error": e.body()}


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
