"""The sandbox's aiohttp server: REST under /api/v3, websockets, admin endpoints, the clock."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from types import TracebackType
from urllib.parse import parse_qsl, unquote_to_bytes

from aiohttp import web

from tradebot.domain.errors import DataError, TradebotError
from tradebot.domain.market import Candle
from tradebot.sandbox import snapshot
from tradebot.sandbox.auth import check_api_key, verify_rest
from tradebot.sandbox.config import SandboxConfig
from tradebot.sandbox.errors import ApiError
from tradebot.sandbox.events import Event
from tradebot.sandbox.faults import Fault, FaultInjector, internal_error
from tradebot.sandbox.markets import MarketSpec
from tradebot.sandbox.mirror import MirrorConfig, fetch_since, forming, prime, to_bar
from tradebot.sandbox.ratelimit import RateLimiter, RateLimitError
from tradebot.sandbox.replay import Series
from tradebot.sandbox.rest import RestApi, Route
from tradebot.sandbox.venue import Venue, replayed
from tradebot.sandbox.ws import Hub

log = logging.getLogger(__name__)
_API_PREFIX = "/api/v3/"


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _utf8(raw_query: str, raw_body: bytes) -> str:
    """The body as text, once it and the percent-decoded query are known to be UTF-8.

    Binance refuses such bytes as a bad parameter; the sandbox must not answer 500.

    Raises:
        ApiError: -1100 Illegal characters found in a parameter.
    """
    try:
        body = raw_body.decode()
        for part in (raw_query, body):
            unquote_to_bytes(part.replace("+", " ")).decode()
    except UnicodeDecodeError:
        raise ApiError(-1100, "Illegal characters found in a parameter.") from None
    return body


class SandboxServer:
    """A local Binance-spot exchange; use ``async with SandboxServer(config) as sandbox``."""

    def __init__(self, config: SandboxConfig) -> None:
        """Build the replaying venue now; a mirror's is built by ``start`` from its source.

        Raises:
            DataError: a data file cannot be read or a snapshot restored.
        """
        self.config = config
        self.venue: Venue
        self.api: RestApi
        self.hub = Hub(
            lambda: self.venue,
            config.api_key,
            config.api_secret,
            lambda: config.faults.ws_disconnect_after_s,
        )
        self.limiter = RateLimiter(
            config.weight_limit_1m, config.calls_before_ban, config.ban_s, time.monotonic
        )
        self.faults = FaultInjector(config.faults, config.seed, time.monotonic)
        self._runner: web.AppRunner | None = None
        self._replay_task: asyncio.Task[None] | None = None
        self._port = config.port
        self.loop: asyncio.AbstractEventLoop | None = None
        if config.mirror is None:
            self._open(replayed(config))

    def _open(self, markets: Mapping[str, tuple[Series, MarketSpec]]) -> None:
        venue = Venue(self.config, self._on_event, markets)
        if self.config.snapshot_path is not None:
            snapshot.restore(venue, self.config.snapshot_path)
        self.venue = venue  # only now: a stop after a failed restore must not save over it
        self.api = RestApi(self.venue, self.hub.depth_snapshot_served)
        self.venue.pending_shock_pct = Decimal(str(self.config.faults.price_shock_pct))

    # ---- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind the port and start serving (and replaying or following, unless deterministic).

        Raises:
            ExchangeUnavailable: a mirror's source cannot be reached.
            ConfigError: a mirror's source lists no such market or timeframe.
        """
        self.loop = asyncio.get_running_loop()
        mirror = self.config.mirror
        try:
            if mirror is not None:
                self._open(await prime(mirror))
            self._runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=0.05)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.config.host, self.config.port)
            await site.start()
        except BaseException:  # a port in use, a source that does not answer: release all
            await self.stop()
            raise
        server = site._server  # aiohttp exposes the bound port only here
        if isinstance(server, asyncio.base_events.Server) and server.sockets:
            self._port = int(server.sockets[0].getsockname()[1])
        if not self.config.deterministic:
            follow = self._replay() if mirror is None else self._follow(mirror)
            self._replay_task = asyncio.create_task(follow)
        log.info("sandbox listening on %s (ws %s)", self.http_url, self.ws_url)

    async def stop(self) -> None:
        """Stop replaying, close websockets, save the snapshot, release the port."""
        if self._replay_task is not None:
            self._replay_task.cancel()
            self._replay_task = None
        await self.hub.disconnect_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.config.mirror is not None:
            await self.config.mirror.source.close()
        if hasattr(self, "venue"):  # a mirror whose source never answered has none
            self._save()

    @property
    def http_url(self) -> str:
        """REST root, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.config.host}:{self._port}"

    @property
    def ws_url(self) -> str:
        """Market-stream base ccxt.pro appends ``/<n>`` to."""
        return f"ws://{self.config.host}:{self._port}/stream/ws"

    @property
    def now_ms(self) -> int:
        """The replay clock (the open time of the current bar of the fastest series)."""
        return self.venue.now_ms

    def current_candle(self, symbol: str) -> Candle:
        """The bar open now for a unified symbol, as far as the replay has walked it."""
        bar = self.venue.current_bar(self.venue.venue_id(symbol))
        return Candle(
            bar.ts_ms,
            float(bar.open),
            float(bar.high),
            float(bar.low),
            float(bar.close),
            float(bar.volume),
        )

    async def advance(self, bars: int = 1) -> None:
        """Close the current bar(s) and open the next; resting orders fill on the way.

        Raises:
            DataError: the replay ran out of data.
        """
        self.venue.advance(bars)
        self._save()
        await asyncio.sleep(0)

    def advance_sync(self, bars: int = 1, timeout_s: float = 30.0) -> None:
        """``advance`` from another thread (the sandbox runs its own loop in a thread)."""
        if self.loop is None:
            raise RuntimeError("the sandbox is not started")
        asyncio.run_coroutine_threadsafe(self.advance(bars), self.loop).result(timeout_s)

    async def _replay(self) -> None:
        speed = self.config.speed
        delay_s = 0.0 if speed <= 0 else self.venue.step_ms / 1000 / speed
        try:
            while True:
                await asyncio.sleep(delay_s)
                self.venue.advance(1)
                if speed > 0:
                    self._save()
        except DataError as e:
            log.warning("sandbox replay stopped: %s", e)
            self._save()

    async def follow_source(self) -> int:
        """Mirror mode: ask the source for its newest candles and walk each bar it closed.

        Returns how many bars were walked (0 while the source's bar is still forming).

        Raises:
            ExchangeUnavailable: the source cannot be reached (the clock stands still).
            ConfigError: the source refused the request.
        """
        mirror = self.config.mirror
        if mirror is None:
            raise DataError("follow_source needs a mirroring sandbox (SandboxConfig.mirror)")
        walked = 0
        for vid, series in self.venue.series.items():
            since = series.bars[self.venue.live[vid].index].ts_ms
            candles = await fetch_since(mirror, series.symbol, since, mirror.history_bars)
            if candles:
                bars = [*(to_bar(c) for c in candles[:-1]), forming(candles[-1])]
                walked += self.venue.follow(vid, bars)
        if walked:
            self._save()
        await asyncio.sleep(0)
        return walked

    async def _follow(self, mirror: MirrorConfig) -> None:
        down = False
        while True:
            await asyncio.sleep(mirror.poll_s)
            try:
                await self.follow_source()
            except TradebotError as e:  # the clock stands still until the source answers
                if not down:
                    log.warning("sandbox: %s", e)
                down = True
                continue
            if down:
                log.warning("sandbox: %s answers again", mirror.label)
            down = False

    def _on_event(self, event: Event) -> None:
        hub = getattr(self, "hub", None)  # events fired while the venue is built have no audience
        if hub is not None:
            hub.publish(event)

    def _save(self) -> None:
        if self.config.snapshot_path is not None:
            snapshot.save(self.venue, self.config.snapshot_path)

    # ---- HTTP ----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/admin/advance", self._admin_advance)
        app.router.add_post("/admin/faults", self._admin_faults)
        app.router.add_get("/admin/state", self._admin_state)
        for path in ("/stream", "/stream/ws", "/stream/ws/{n}", "/ws", "/ws/{n}"):
            app.router.add_get(path, self.hub.market_handler)
        app.router.add_get("/ws-api/v3", self.hub.ws_api_handler)
        app.router.add_route("*", "/{tail:.*}", self._api)
        return app

    async def _api(self, request: web.Request) -> web.StreamResponse:
        route = self.api.routes.get((request.method, request.path.removeprefix(_API_PREFIX)))
        if not request.path.startswith(_API_PREFIX) or route is None:
            log.warning("sandbox: %s %s is not served", request.method, request.path)
            body = {
                "code": -1,
                "msg": f"{request.method} {request.path} is not served by the tradebot sandbox.",
            }
            return web.json_response(body, status=404)
        raw_query = request.raw_path.partition("?")[2]
        raw_body = await request.read() if request.can_read_body else b""
        try:
            return await self._serve(request, route, raw_query, _utf8(raw_query, raw_body))
        except RateLimitError as e:
            headers = {"Retry-After": str(e.retry_after_s), "X-MBX-USED-WEIGHT-1M": str(e.used)}
            return web.json_response(e.body(), status=e.status, headers=headers)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)

    async def _serve(
        self, request: web.Request, route: Route, raw_query: str, raw_body: str
    ) -> web.Response:
        loose = dict(parse_qsl(raw_query + ("&" if raw_query and raw_body else "") + raw_body))
        client = request.headers.get("X-MBX-APIKEY") or request.remote or "?"
        used = self.limiter.charge(client, route.weight(loose))
        headers = {"X-MBX-USED-WEIGHT-1M": str(used), "X-MBX-USED-WEIGHT": str(used)}
        self.faults.check_maintenance()
        await self._inject(self.faults.draw())
        if route.signed:
            check_api_key(request.headers.get("X-MBX-APIKEY"), self.config.api_key)
            params = verify_rest(raw_query, raw_body, self.config.api_secret, _wall_ms())
        else:
            params = loose
        try:
            result = route.handler(params)
        except ApiError:
            if route.mutates:  # a request of two parts may have done one (a cancel-replace)
                self._save()
            raise
        if route.mutates:
            self._save()
            if request.method == "POST" and self.faults.draw_ambiguous():
                await self._hang()
        if request.path.endswith("/time"):
            result = {"serverTime": _wall_ms()}
        return web.json_response(result, headers=headers)

    async def _inject(self, fault: Fault) -> None:
        latency = self.faults.config.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        if fault is Fault.ERROR:
            raise internal_error()
        if fault is Fault.TIMEOUT:
            await self._hang()

    async def _hang(self) -> None:
        await asyncio.sleep(self.faults.config.hang_s)
        raise ApiError(
            -1007,
            "Timeout waiting for response from backend server. "
            "Send status unknown; execution status unknown.",
            status=504,
        )

    # ---- admin ---------------------------------------------------------------------------

    async def _admin_advance(self, request: web.Request) -> web.Response:
        raw = request.query.get("bars", "1")
        if not raw.isdigit() or int(raw) < 1:
            return web.json_response(
                {"error": f"bars={raw!r}: give a positive integer"}, status=400
            )
        try:
            await self.advance(int(raw))
        except DataError as e:
            return web.json_response({"error": str(e)}, status=409)
        return web.json_response({"now_ms": self.now_ms})

    async def _admin_faults(self, request: web.Request) -> web.Response:
        try:
            changes = json.loads(await request.text() or "{}")
            if not isinstance(changes, dict):
                raise TypeError("send a JSON object of fault fields")
            disconnect = bool(changes.pop("disconnect_ws", False))
            self.faults.update(changes)
        except (ValueError, TypeError) as e:
            return web.json_response({"error": str(e)}, status=400)
        if "price_shock_pct" in changes:
            self.venue.pending_shock_pct = Decimal(str(changes["price_shock_pct"]))
        dropped = await self.hub.disconnect_all() if disconnect else 0
        return web.json_response({"faults": asdict(self.faults.config), "ws_dropped": dropped})

    async def _admin_state(self, _request: web.Request) -> web.Response:
        venue = self.venue
        acct = venue.account
        return web.json_response(
            {
                "now_ms": venue.now_ms,
                "prices": {venue.unified[v]: str(venue.price(v)) for v in venue.live},
                "timeframes": {venue.unified[v]: s.timeframe for v, s in venue.series.items()},
                "balances": {
                    a: {"free": str(acct.free.get(a, 0)), "locked": str(acct.locked.get(a, 0))}
                    for a in acct.assets()
                },
                "open_orders": len(venue.engine.open_orders(None)),
                "trades": len(venue.engine.trades),
                "faults": asdict(self.faults.config),
                "ws_connections": len(self.hub.connections),
                "market_data": "replay" if venue.mirror is None else venue.mirror.label,
            }
        )
