"""The services in one process over the in-memory bus, against the sandbox: the split is right.

Market data → strategy → execution over ``MemoryBus`` make the single process's trades on
the same candles: the same client order ids at the venue, the same trades field by field.
The execution service never acts on a signal twice (a re-published signal of a decided bar
is dropped) nor on one older than ``max_signal_age_ms`` (its bar is recorded as skipped).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from paper_venue import (
    FAST_RETRY,
    KEY,
    SAMPLE,
    SECRET,
    make_bot,
    quick_config,
    sandbox,
    set_faults,
    venue_orders,
)
from tradebot.cli.run_session import bot_settings as settings_of
from tradebot.config import Config
from tradebot.data.load import load_candles
from tradebot.domain.decisions import Signal, SignalAction
from tradebot.domain.orders import OrderStatus
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.candles import closed_candles
from tradebot.parity import configurations
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.services.assembly import execution_service, strategy_service
from tradebot.services.bus import BusConsumer, Envelope, Family, MemoryBus, MemoryProcessedIds
from tradebot.services.execution import ExecutionService
from tradebot.services.market_data import MarketDataService
from tradebot.services.messages import SignalsDecided, SymbolSignal
from tradebot.state import Repository, create_database
from tradebot.state.db import Database

BIG = 10_000_000
HOUR_MS = 3_600_000
BASKET = {"BTC/USDT": (0, 1.0), "ETH/USDT": (2_000, 0.05), "SOL/USDT": (4_000, 0.003)}


class Services:
    """The three trading services of one venue, on one bus, polled in turn by the test."""

    def __init__(
        self,
        server: SandboxServer,
        tmp_path: Path,
        config: Config,
        database: Database | None = None,
        clock: Callable[[], float] = time.time,
        bot_settings: BotSettings | None = None,
    ) -> None:
        """``database``: the execution's (default a new SQLite file); ``clock``: its;
        ``bot_settings``: its bot's (default: the market's, 60 bars)."""
        self.bus = MemoryBus()
        settings = ConnectSettings(
            venue=Venue.SANDBOX, sandbox_url=server.http_url, websockets=False,
            budget=RateBudget(weight_per_window=BIG, orders_per_window=BIG),
            runtime_dir=tmp_path / "rt", retry=FAST_RETRY,
        )  # fmt: skip
        self.connectors = [connect(settings, Credentials(KEY, SECRET)) for _ in range(3)]
        symbols = config.trading.all_symbols
        self.market_data = MarketDataService(self.connectors[0], self.bus, "sandbox", symbols, "1h")
        strategy = strategy_service(config, self.bus, self.connectors[1], "sandbox", 60)
        database = database or create_database(f"sqlite:///{tmp_path / 'services.db'}")
        repo = Repository(database)
        self.repo = repo
        bot_settings = bot_settings or BotSettings(tuple(symbols), "1h", window_bars=60)
        self.execution: ExecutionService = execution_service(
            config, self.connectors[2], repo, self.bus, bot_settings, max_signal_age_ms=HOUR_MS,
            clock=clock,
        )  # fmt: skip
        self.strategy = BusConsumer(
            self.bus, Family.MARKET_DATA, "strategy", "s1", strategy, MemoryProcessedIds(),
            block_ms=0,
        )  # fmt: skip
        self.executor = BusConsumer(
            self.bus, Family.SIGNALS, "execution", "e1", self.execution, MemoryProcessedIds(),
            block_ms=0,
        )  # fmt: skip

    async def bar(self) -> None:
        """What happens after a bar closes: publish it, decide it, act on it."""
        await self.market_data.poll()
        await self.strategy.poll()
        await self.executor.poll()

    async def close(self) -> None:
        for connector in self.connectors:
            await connector.close()


def trades(repo: Repository) -> list[dict[str, object]]:
    return [dataclasses.asdict(t) for t in repo.trades()]


async def test_services_over_memory_bus_make_the_single_process_trades(tmp_path: Path) -> None:
    # Arrange: two identical sandboxes, the single process on one, the services on the other
    config = quick_config(**configurations("1h", HOUR_MS)["oco"])
    async with sandbox() as single_venue, sandbox() as services_venue:
        bot = make_bot(single_venue, tmp_path, config=config)
        services = Services(services_venue, tmp_path, config)
        try:
            await bot.start()
            await services.execution.start()
            await services.market_data.poll()  # the newest closed bar: decided already
            await services.strategy.poll()
            await services.executor.poll()
            # Act
            for _ in range(80):
                await single_venue.advance(1)
                assert await bot.step()
                await services_venue.advance(1)
                await services.bar()
            await bot.sync_exchange()
            await services.execution.sync()
        finally:
            await bot.close()
            await services.close()
    # Assert: the same trades, field by field, and every bar acted on once
    single = trades(bot.repo)
    assert len(single) >= 5, "the window must hold enough trades to mean something"
    assert trades(services.repo) == single
    assert services.execution.counts.acted == 80
    assert services.execution.counts.too_old == 0
    assert services.executor.counts.failed == 0


async def buy_signal(services: Services, observed_ms: int) -> Envelope:
    """A BUY of BTC/USDT at the newest closed bar, as the strategy service would publish it."""
    connector = services.connectors[1]
    now = await connector.fetch_time()
    window = (await closed_candles(connector, "BTC/USDT", "1h", now, 62))[-60:]
    signal = Signal(SignalAction.BUY, 1.0, "test: buy")
    decided = SignalsDecided(
        "sandbox", "1h", window[-1].ts_ms, observed_ms,
        {"BTC/USDT": SymbolSignal(signal, {}, window)},
    )  # fmt: skip
    return decided.envelope("strategy:test", observed_ms)


async def test_execution_signal_older_than_max_age_is_never_traded(
    tmp_path: Path, database: Database
) -> None:
    # Arrange: a BUY whose bar was seen closed two hours before the execution service reads
    # it; the execution's database on SQLite and on PostgreSQL
    async with sandbox() as venue:
        services = Services(venue, tmp_path, quick_config(), database)
        try:
            await services.execution.start()
            await venue.advance(1)
            now_ms = int(time.time() * 1000)
            await services.bus.publish(await buy_signal(services, now_ms - 2 * HOUR_MS))
            # Act
            await services.executor.poll()
            orders = await venue_orders(venue)
        finally:
            await services.close()
    # Assert: nothing sent; the bar recorded as skipped saying why; an alert on the bus
    assert orders == []
    assert services.execution.counts.too_old == 1
    (decision,) = services.repo.decisions()
    assert decision.action == "skipped"
    assert "older than services.execution.max_signal_age_s (3600 s)" in decision.signal.reason
    assert await services.bus.length(Family.ALERTS) == 1


async def test_execution_same_signal_three_times_acts_once(
    tmp_path: Path, database: Database
) -> None:
    # Arrange: one BUY published twice (a strategy service that restarted), then read again
    # by a group that has lost what it acknowledged (a Redis that came back empty) and by a
    # consumer whose processed ids were lost with its process; the execution's database
    # (its order tables and its record of signals acted on) on SQLite and on PostgreSQL
    async with sandbox() as venue:
        services = Services(venue, tmp_path, quick_config(), database)
        try:
            await services.execution.start()
            await venue.advance(1)
            signal = await buy_signal(services, int(time.time() * 1000))
            await services.bus.publish(signal)
            await services.bus.publish(signal)
            # Act
            await services.executor.poll()
            restarted = BusConsumer(
                services.bus, Family.SIGNALS, "execution-2", "e2", services.execution,
                MemoryProcessedIds(), block_ms=0,
            )  # fmt: skip
            await restarted.poll()
            orders = await venue_orders(venue)
        finally:
            await services.close()
    # Assert: one entry at the venue, one decision for the bar
    assert [o["clientOrderId"] for o in orders if o["side"] == "buy"] == [
        f"tb-BTCUSDT-{json.loads(signal.to_fields()['payload'])['bar_ts_ms']}-en"
    ]
    assert services.execution.counts.acted == 1
    assert services.executor.counts.duplicates == 1  # the repeat, by its event id
    assert services.execution.counts.already_decided == 1  # by the bar decided in the database
    assert restarted.counts.duplicates == 1
    assert [d.action.split()[0] for d in services.repo.decisions()] == ["buy"]


async def test_execution_syncs_the_venue_every_sync_interval_s(tmp_path: Path) -> None:
    # Arrange: a bought position whose stop someone cancels at the venue; the execution
    # syncing every 60 s by its clock (the default is 10 s)
    now = [time.time()]
    config = quick_config(**{"services.execution.sync_interval_s": 60})
    async with sandbox() as venue:
        services = Services(venue, tmp_path, config, clock=lambda: now[0])
        try:
            await services.execution.start()
            await services.execution.sync_when_due()  # the first: the start just reconciled
            await venue.advance(1)
            await services.bus.publish(await buy_signal(services, int(now[0] * 1000)))
            await services.executor.poll()
            (stop,) = services.repo.open_orders()
            await cancel_at_venue(venue, stop.client_order_id)
            # Act
            now[0] += 30
            await services.execution.sync_when_due()
            after_30_s = status_of(services.repo, stop.client_order_id)
            now[0] += 31
            await services.execution.sync_when_due()
            after_61_s = status_of(services.repo, stop.client_order_id)
        finally:
            await services.close()
    # Assert: the cancel is seen at the first sync due, not before
    assert after_30_s is OrderStatus.OPEN
    assert after_61_s is OrderStatus.CANCELED


@pytest.mark.parametrize(("health_check_s", "expected"), [(5, "canceled"), (30, "open")])
async def test_execution_looks_again_every_health_check_interval_s_after_a_failed_sync(
    tmp_path: Path, health_check_s: int, expected: str
) -> None:
    # Arrange: a bought position, an execution syncing every 60 s by its clock, with the
    # settings `tradebot serve execution` reads (bot_settings); the venue down at a sync
    now = [time.time()]
    config = quick_config(**{
        "services.execution.sync_interval_s": 60,
        "downtime.health_check_interval_s": health_check_s,
    })  # fmt: skip
    async with sandbox() as venue:
        services = Services(
            venue, tmp_path, config, clock=lambda: now[0], bot_settings=settings_of(config)
        )
        try:
            await services.execution.start()
            await services.execution.sync_when_due()  # the first: the start just reconciled
            await venue.advance(1)
            await services.bus.publish(await buy_signal(services, int(now[0] * 1000)))
            await services.executor.poll()
            (stop,) = services.repo.open_orders()
            await set_faults(venue, maintenance_s=600.0)
            now[0] += 61
            await services.execution.sync_when_due()  # fails: the venue is in maintenance
            await set_faults(venue, maintenance_s=0.0)
            await cancel_at_venue(venue, stop.client_order_id)
            # Act: 6 s after the failed sync
            now[0] += 6
            await services.execution.sync_when_due()
            after_6_s = status_of(services.repo, stop.client_order_id)
        finally:
            await services.close()
    # Assert: a 5 s health check has looked again and seen the cancel; a 30 s one has not
    assert services.execution.bot.stats.errors == 1
    assert after_6_s is OrderStatus(expected)


async def cancel_at_venue(server: SandboxServer, client_order_id: str) -> None:
    """Cancel an order at the venue behind the bot's back (a person on the exchange's site)."""
    ex = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
    ex.enableRateLimit = False
    try:
        await ex.cancel_order("", "BTC/USDT", {"origClientOrderId": client_order_id})
    finally:
        await ex.close()


def status_of(repo: Repository, client_order_id: str) -> OrderStatus:
    (order,) = [o for o in repo.orders() if o.client_order_id == client_order_id]
    return order.status


def basket_files(folder: Path) -> dict[str, Path]:
    """Three markets on one timeline, cut from the BTC sample at different months and
    scaled to different prices, so that their signals differ."""
    source = load_candles(SAMPLE)
    timeline = source["ts_ms"].to_numpy()[:600]
    files = {}
    for symbol, (offset, scale) in BASKET.items():
        part = source.iloc[offset : offset + 600].reset_index(drop=True)
        frame = pd.DataFrame({"timestamp": timeline})
        for column in ("open", "high", "low", "close"):
            frame[column] = (part[column] * scale).round(2)
        frame["volume"] = part["volume"]
        files[symbol] = folder / f"binance_{symbol.replace('/', '-')}_1h.csv"
        frame.to_csv(files[symbol], index=False)
    return files


@asynccontextmanager
async def basket_sandbox(files: dict[str, Path]) -> AsyncIterator[SandboxServer]:
    config = SandboxConfig(
        port=0, api_key=KEY, api_secret=SECRET, data_files=files, spread_bps=Decimal(0),
        level_notional=Decimal(BIG), start_index=100, seed=11, weight_limit_1m=BIG,
    )  # fmt: skip
    async with SandboxServer(config) as server:
        yield server


async def test_services_basket_decide_each_close_together_as_the_single_process(
    tmp_path: Path,
) -> None:
    # Arrange: three markets on one wallet with a binding exposure limit, so that a symbol
    # deciding on an account another symbol of the same close already changed would differ
    files = basket_files(tmp_path)
    config = quick_config(**{
        "trading.symbols": list(BASKET), "risk.max_open_positions": 2,
        "risk.stop_loss_method": "fixed_pct", "risk.stop_loss_pct": 0.01,
    })  # fmt: skip
    async with basket_sandbox(files) as single_venue, basket_sandbox(files) as services_venue:
        bot = make_bot(single_venue, tmp_path, config=config)
        services = Services(services_venue, tmp_path, config)
        try:
            await bot.start()
            await services.execution.start()
            await services.bar()  # the newest closed bars: decided already
            # Act
            for _ in range(60):
                await single_venue.advance(1)
                assert await bot.step()
                await services_venue.advance(1)
                await services.bar()
            await bot.sync_exchange()
            await services.execution.sync()
        finally:
            await bot.close()
            await services.close()
    # Assert: the same trades on every market; one signal message per close
    single = trades(bot.repo)
    assert {t["symbol"] for t in single} == set(BASKET)
    assert trades(services.repo) == single
    assert services.execution.counts.acted == 60
