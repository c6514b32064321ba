"""A paper bot trading the bundled BTC/USDT 1h sample through the real path, for scenario tests.

TradingBot → CcxtConnector → unmodified ccxt → HTTP on 127.0.0.1 → the sandbox. Retries are
made fast (milliseconds) so that a few hundred bars replay in seconds. ``make_bot`` builds a
bot on a given database, so a test can kill one and start the next on the same state.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from yarl import URL

from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import sample_path
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.bot_settings import BotSettings, Checkpoint
from tradebot.orchestrator.continuity import DowntimePolicy
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.trade_log import BotObserver
from tradebot.sandbox import FaultConfig, SandboxConfig, SandboxServer
from tradebot.state import Repository, create_database

SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
KEY, SECRET = "faults-key", "faults-secret"
BIG = 10_000_000
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.005, max_delay_s=0.02)
_DECISION = re.compile(r"^(.+-\d+-[a-z]{2})\d*$")


def quick_config(**params: object) -> Config:
    """A quick EMA strategy, so that a few hundred 1h bars hold many orders."""
    strategy = {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100}
    overrides: dict[str, object] = {"strategy.params": strategy, **params}
    return with_overrides(load_config(None), overrides, "test")


@asynccontextmanager
async def sandbox(
    faults: FaultConfig | None = None, weight_limit_1m: int = BIG
) -> AsyncIterator[SandboxServer]:
    """The sandbox replaying the bundled sample from bar 400, no spread, deep book."""
    config = SandboxConfig(
        port=0, api_key=KEY, api_secret=SECRET, data_files={"BTC/USDT": SAMPLE},
        spread_bps=Decimal(0), level_notional=Decimal(BIG), start_index=400,
        faults=faults or FaultConfig(), seed=11, weight_limit_1m=weight_limit_1m,
    )  # fmt: skip
    async with SandboxServer(config) as server:
        yield server


def make_bot(
    server: SandboxServer,
    tmp_path: Path,
    *,
    config: Config | None = None,
    budget: int = BIG,
    on_exchange_down: DowntimePolicy = DowntimePolicy.WAIT,
    checkpoint: Checkpoint | None = None,
    metrics: ConnectorMetrics | None = None,
    observer: BotObserver | None = None,
    settings: BotSettings | None = None,
    websockets: bool = False,
) -> TradingBot:
    """A paper bot on ``tmp_path/bot.db`` (the same file each call: a restart); ``settings``
    replaces the shell's quick ones (``tradebot run`` builds them with ``bot_settings``);
    ``websockets`` opens the connector's streams (``stream_candles`` follows candles there)."""
    config = config or quick_config()
    connect_settings = ConnectSettings(
        venue=Venue.SANDBOX, sandbox_url=server.http_url, sandbox_ws_url=server.ws_url,
        websockets=websockets, retry=FAST_RETRY,
        budget=RateBudget(weight_per_window=budget, orders_per_window=budget),
        runtime_dir=tmp_path / "rt",
    )  # fmt: skip
    connector = connect(connect_settings, Credentials(KEY, SECRET), metrics or ConnectorMetrics())

    factory = engine_factory(config)

    repo = Repository(create_database(f"sqlite:///{tmp_path / 'bot.db'}"))
    bot_settings = settings or BotSettings(
        tuple(config.trading.all_symbols), "1h", window_bars=60, on_exchange_down=on_exchange_down,
        max_signal_age_bars=config.trading.max_signal_age_bars,
    )  # fmt: skip
    return TradingBot(factory, connector, repo, bot_settings, checkpoint, observer)


@asynccontextmanager
async def trading(
    tmp_path: Path,
    faults: FaultConfig,
    weight_limit_1m: int = BIG,
    budget: int = BIG,
    on_exchange_down: DowntimePolicy = DowntimePolicy.WAIT,
) -> AsyncIterator[tuple[SandboxServer, TradingBot, ConnectorMetrics]]:
    """A sandbox and one paper bot on it."""
    async with sandbox(faults, weight_limit_1m) as server:
        metrics = ConnectorMetrics()
        bot = make_bot(
            server, tmp_path, budget=budget, on_exchange_down=on_exchange_down, metrics=metrics
        )
        try:
            yield server, bot, metrics
        finally:
            await bot.close()


class WireRequests:
    """Each request a bot's CCXT session starts, as the venue receives it: an aiohttp trace
    on CCXT's own HTTP session, installed on ``bot`` before it starts."""

    def __init__(self, bot: TradingBot) -> None:
        self.seen: list[tuple[str, URL]] = []
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(self._started)
        bot.connector.exchange.session = aiohttp.ClientSession(trace_configs=[trace])  # type: ignore[attr-defined]

    async def _started(
        self, _session: object, _context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        self.seen.append((params.method, params.url))

    def note(self, name: str) -> None:
        """Put ``name`` among the requests where it happens (a checkpoint's name, say)."""
        self.seen.append(("NOTE", URL(name)))

    def taken(self) -> list[str]:
        """The paths asked since the last call, each as ``METHOD /path``."""
        seen, self.seen = self.seen, []
        return [f"{method} {url.path.removeprefix('/api/v3')}" for method, url in seen]

    def klines_limits(self) -> list[int]:
        """The ``limit`` of every klines request so far."""
        return [int(url.query["limit"]) for _, url in self.seen if url.path.endswith("/klines")]


class Killed(BaseException):
    """Stands for a SIGKILL at a checkpoint: nothing after it runs (not even except blocks)."""


async def killed_at(
    server: SandboxServer,
    tmp_path: Path,
    checkpoint: str,
    when: Callable[[TradingBot], bool] = lambda _bot: True,
    before: Callable[[str], None] = lambda _name: None,
) -> TradingBot:
    """A bot on ``tmp_path`` traded (300 bars at most) until it reaches ``checkpoint``
    with ``when`` true of it, where it dies as under a SIGKILL; closed, as its process
    would be. ``before`` hears of every checkpoint passed before that (a test's hook)."""
    bots: list[TradingBot] = []
    died: list[str] = []

    def kill(name: str) -> None:
        if died:
            return
        before(name)
        if name == checkpoint and when(bots[0]):
            died.append(name)
            raise Killed

    bot = make_bot(server, tmp_path, checkpoint=kill)
    bots.append(bot)
    await bot.start()
    try:
        await replay(server, bot, 300)
    except Killed:
        pass
    finally:
        await bot.close()
    assert died, f"the bot reached {checkpoint} within 300 bars"
    return bot


async def set_faults(server: SandboxServer, **faults: float) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.http_url}/admin/faults", json=faults) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def replay(server: SandboxServer, bot: TradingBot, bars: int) -> list[bool]:
    outcomes = []
    for _ in range(bars):
        await server.advance(1)
        outcomes.append(await bot.step())
    return outcomes


async def polls_asked(
    server: SandboxServer, bot: TradingBot, requests: WireRequests, bars: int
) -> list[list[str]]:
    """Replay ``bars`` bars with one poll each (each must get through); what each poll
    asked the venue (``WireRequests.taken``)."""
    requests.taken()
    asked = []
    for _ in range(bars):
        assert (await replay(server, bot, 1)) == [True]
        asked.append(requests.taken())
    return asked


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s"


async def venue_orders(server: SandboxServer) -> list[dict[str, Any]]:
    ex = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
    ex.enableRateLimit = False
    try:
        return list(await ex.fetch_orders("BTC/USDT", None, 1000))
    finally:
        await ex.close()


async def venue_trades(server: SandboxServer) -> list[dict[str, Any]]:
    """The account's BTC/USDT trades, each with its order's ``clientOrderId``."""
    ex = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
    ex.enableRateLimit = False
    try:
        orders = {str(o["id"]): o for o in await ex.fetch_orders("BTC/USDT", None, 1000)}
        trades = list(await ex.fetch_my_trades("BTC/USDT", None, 1000))
    finally:
        await ex.close()
    return [{**t, "clientOrderId": orders[str(t["order"])]["clientOrderId"]} for t in trades]


async def venue_balance(server: SandboxServer, asset: str) -> Decimal:
    """The account's total holding of ``asset``, as the venue states it."""
    ex = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
    ex.enableRateLimit = False
    try:
        info = (await ex.fetch_balance())["info"]["balances"]
    finally:
        await ex.close()
    row = next(b for b in info if b["asset"] == asset)
    return Decimal(row["free"]) + Decimal(row["locked"])


def duplicates(orders: list[dict[str, Any]]) -> int:
    """Orders sent twice: by client id, and by decision (symbol, bar, role)."""
    ids = Counter(str(o["clientOrderId"]) for o in orders)
    decisions = Counter(m.group(1) for o in orders if (m := _DECISION.match(o["clientOrderId"])))
    return sum(n - 1 for n in ids.values()) + sum(n - 1 for n in decisions.values())
