"""The services as separate processes over a real redis-server, against the sandbox.

``tradebot serve market-data``, ``strategy`` and ``execution`` run as three processes on
one Redis (loopback, password, AOF) and one sandbox; the single process (``TradingBot``)
trades an identical sandbox beside them, bar by bar. Each service is SIGKILLed in turn
while a bar closes: the others keep running, the restarted one catches up from its
consumer group, and the services make the single process's trades. Then the execution is
SIGKILLed with a signal in flight. In the end no order was sent twice, no fill was lost, and
their database holds what the exchange holds.

And ``serve execution`` and ``serve monitor`` on PostgreSQL keep running through a Redis
SIGKILLed the moment it acknowledged a signal and started again on its append-only file:
that signal is acted on once, one published during the outage is handled, and the monitor
raises the execution's alert once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from paper_venue import SAMPLE, duplicates
from redis_server import RedisServer
from tradebot.cli.run_session import bot_settings
from tradebot.config import Config, load_config
from tradebot.domain.decisions import Signal, SignalAction
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.factory import connect, settings_from_config
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.candles import closed_candles
from tradebot.orchestrator.live import TradingBot
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.services.bus import Envelope
from tradebot.services.bus.redis_streams import RedisStreamsBus
from tradebot.services.messages import SignalsDecided, SymbolSignal
from tradebot.state import Repository, create_database
from tradebot.state.db import Database
from tradebot.state.outbox import AlertOutbox, RaisedAlert

BIG = 10_000_000
CONFIG = """\
exchange:
  mode: paper
  sandbox: {{embedded: false, host: 127.0.0.1, port: {port}}}
trading: {{symbol: BTC/USDT, timeframe: 1h, cycle_interval_s: 1}}
strategy: {{params: {{fast_period: 3, slow_period: 8, rsi_threshold: 100}}}}
risk: {{stop_loss_method: fixed_pct, stop_loss_pct: 0.01, take_profit_method: pct,
        take_profit_pct: 0.015}}
services:
  bus: {{url: "redis://127.0.0.1:{redis_port}/0", password: "${{TEST_REDIS_PASSWORD}}",
         prefix: {prefix}}}
  market_data: {{poll_interval_s: 0.2, websocket: false}}
  execution: {{sync_interval_s: 1}}
"""


@asynccontextmanager
async def sandbox() -> AsyncIterator[SandboxServer]:
    """The bundled BTC/USDT 1h sample from bar 400, no spread, deep book (default keys)."""
    config = SandboxConfig(
        port=0, data_files={"BTC/USDT": SAMPLE}, spread_bps=Decimal(0),
        level_notional=Decimal(BIG), start_index=400, seed=11, weight_limit_1m=BIG,
    )  # fmt: skip
    async with SandboxServer(config) as server:
        yield server


def port_of(server: SandboxServer) -> int:
    return int(server.http_url.rsplit(":", 1)[1].split("/")[0])


class Service:
    """One ``tradebot serve`` process, restartable on the same config, name and database."""

    def __init__(self, name: str, config: Path, tmp_path: Path, password: str) -> None:
        self.name, self.config, self.tmp_path = name, config, tmp_path
        self.env = {**os.environ, "TEST_REDIS_PASSWORD": password, "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.tmp_path / f"{self.name}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        args = ["serve", self.name, "--config", str(self.config)]
        if self.name == "execution" and not self.env.get("TEST_DATABASE_URL"):
            args += ["--db", str(self.tmp_path / "services.db")]
        if self.name != "market-data":
            args += ["--name", f"{self.name}-1"]
        command = [sys.executable, "-c", "from tradebot.cli import main; main()", *args]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=self.env
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def until(check: Callable[[], bool], what: Callable[[], str], timeout_s: float = 180) -> None:
    """Wait (letting the sandbox serve) until ``check()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what()}"
        await asyncio.sleep(0.05)


def config_for(tmp_path: Path, name: str, port: int, redis: RedisServer, prefix: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        CONFIG.format(port=port, redis_port=redis.port, prefix=prefix), encoding="utf-8"
    )
    return path


def loaded(path: Path, redis: RedisServer) -> Config:
    os.environ.setdefault("TEST_REDIS_PASSWORD", redis.password)
    return load_config(path)


def quiet(redis: RedisServer, prefix: str) -> bool:
    """Every message read and acknowledged: each service has finished its work on the bar."""
    with redis.client() as client:
        for stream, group in (("market_data", "strategy"), ("signals", "execution")):
            key = f"{prefix}:{stream}"
            if not client.exists(key):
                return False
            info = client.xinfo_stream(key)
            groups = {g["name"]: g for g in client.xinfo_groups(key)}
            if group not in groups:
                return False
            read = groups[group]
            if read["pending"] or read["last-delivered-id"] != info["last-generated-id"]:
                return False
    return True


def newest_signal(redis: RedisServer, prefix: str) -> str:
    """The id of the newest message on the signals stream."""
    with redis.client() as client:
        key = f"{prefix}:signals"
        return str(client.xinfo_stream(key)["last-generated-id"]) if client.exists(key) else ""


async def venue_state(server: SandboxServer) -> tuple[list[dict[str, object]], list[str]]:
    ex = sandbox_exchange(server.http_url)
    ex.enableRateLimit = False
    try:
        orders = list(await ex.fetch_orders("BTC/USDT", None, 1000))
        fills = list(await ex.fetch_my_trades("BTC/USDT", None, 1000))
    finally:
        await ex.close()
    return orders, sorted(str(f["id"]) for f in fills)


async def test_services_killed_in_turn_make_the_single_process_trades(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # Arrange: two identical sandboxes; the single process on one, three services on the other
    prefix = f"t{uuid.uuid4().hex[:8]}"
    async with sandbox() as single_venue, sandbox() as services_venue:
        single_cfg = loaded(
            config_for(tmp_path, "single", port_of(single_venue), redis_server, prefix),
            redis_server,
        )
        services_cfg = config_for(
            tmp_path, "services", port_of(services_venue), redis_server, prefix
        )
        bot = TradingBot(
            engine_factory(single_cfg),
            connect(settings_from_config(single_cfg, runtime_dir=tmp_path / "rt")),
            Repository(create_database(f"sqlite:///{tmp_path / 'single.db'}")),
            bot_settings(single_cfg),
        )
        services = {
            name: Service(name, services_cfg, tmp_path, redis_server.password)
            for name in ("execution", "strategy", "market-data")
        }
        repo = Repository(create_database(f"sqlite:///{tmp_path / 'services.db'}"))
        killed: list[str] = []
        try:
            await bot.start()
            for service in services.values():
                service.start()
            execution = services["execution"]
            await until(lambda: "serving as" in execution.output(), execution.output)

            def decided(ts: int) -> Callable[[], bool]:
                return lambda: (repo.last_bar_ts("BTC/USDT", "1h") or 0) >= ts

            def logs() -> str:
                return "\n".join(f"--- {n}\n{s.output()[-3000:]}" for n, s in services.items())

            # Act: 36 bars; before bars 9, 18 and 27 one service is SIGKILLed, the bar closes
            # while it is down, then it is started again under its old name
            for n in range(1, 37):
                victim = {9: "execution", 18: "strategy", 27: "market-data"}.get(n)
                if victim is not None:
                    services[victim].kill()
                    killed.append(victim)
                await single_venue.advance(1)
                assert await bot.step()
                await services_venue.advance(1)
                if victim is not None:
                    await asyncio.sleep(0.5)  # the others handle the bar meanwhile
                    alive = {k for k, s in services.items() if s.alive()}
                    assert alive == set(services) - {victim}, logs()
                    services[victim].start()
                ts = bot.repo.last_bar_ts("BTC/USDT", "1h") or 0
                await until(decided(ts), logs)
                # every message handled and acknowledged before the next kill: a kill
                # between a decision and its send is a crash, recovered but not the same trade
                await until(lambda: quiet(redis_server, prefix), logs)
            await bot.sync_exchange()
            await asyncio.sleep(1.5)  # one more sync of fills by the execution service
            phase_one = [dataclasses.asdict(t) for t in repo.trades()]
            # Then 4 bars more; at the second, the execution is SIGKILLed the moment the
            # bar's signal is on its stream (being read or acted on) and started again
            for n in range(37, 41):
                before = newest_signal(redis_server, prefix)
                await services_venue.advance(1)
                await until(lambda: newest_signal(redis_server, prefix) != before, logs)  # noqa: B023
                if n == 38:
                    execution.kill()
                    killed.append("execution, a signal in flight")
                    execution.start()
                await until(lambda: quiet(redis_server, prefix), logs)
            await asyncio.sleep(1.5)
            venue_orders, venue_fills = await venue_state(services_venue)
        finally:
            for service in services.values():
                service.stop()
            await bot.close()
    # Assert: the single process's trades; no order twice; the database is the exchange's
    single = [dataclasses.asdict(t) for t in bot.repo.trades()]
    assert len(single) >= 3, "the window must hold enough trades to mean something"
    assert phase_one == single
    assert duplicates(venue_orders) == 0
    assert sorted(f.trade_id for f in repo.fills()) == venue_fills
    venue_ids = {str(o["clientOrderId"]) for o in venue_orders}
    assert venue_ids <= {o.client_order_id for o in repo.orders()}
    venue_open = {str(o["clientOrderId"]) for o in venue_orders if o["status"] == "open"}
    assert {o.client_order_id for o in repo.open_orders()} == venue_open
    assert killed == ["execution", "strategy", "market-data", "execution, a signal in flight"]
    assert redis_server.password not in logs()  # read from the environment, never shown


PG_CONFIG = """\
exchange:
  mode: paper
  sandbox: {{embedded: false, host: 127.0.0.1, port: {port}}}
trading: {{symbol: BTC/USDT, timeframe: 1h}}
strategy: {{params: {{fast_period: 3, slow_period: 8, rsi_threshold: 100}}}}
risk: {{stop_loss_method: fixed_pct, stop_loss_pct: 0.01}}
database: {{url: "${{TEST_DATABASE_URL}}"}}
services:
  bus: {{url: "redis://127.0.0.1:{redis_port}/0", password: "${{TEST_REDIS_PASSWORD}}",
         prefix: restart, claim_idle_s: 1, retry_for_s: 0.3}}
"""


async def signal_now(connector: CcxtConnector, action: SignalAction, age_ms: int) -> Envelope:
    """The strategy service's message for the newest closed bar: ``action`` for BTC/USDT,
    the bar seen closed ``age_ms`` ago."""
    now = await connector.fetch_time()
    window = (await closed_candles(connector, "BTC/USDT", "1h", now, 62))[-60:]
    observed_ms = int(time.time() * 1000) - age_ms
    decided = SignalsDecided(
        "binance", "1h", window[-1].ts_ms, observed_ms,
        {"BTC/USDT": SymbolSignal(Signal(action, 1.0, "test"), {}, window)},
    )  # fmt: skip
    return decided.envelope("strategy:test", observed_ms)


def raised(outbox: AlertOutbox) -> list[RaisedAlert]:
    """The services' alerts the monitor raised (not its own rules', e.g. a trade opened)."""
    return [a for a in outbox.alerts() if a.rule == "service_alert"]


def settled(redis: RedisServer) -> bool:
    """The execution and the monitor have read and acknowledged everything on their streams."""
    with redis.client() as client:
        for stream, group in (("signals", "execution"), ("alerts", "monitor")):
            groups = {g["name"]: g for g in client.xinfo_groups(f"restart:{stream}")}
            last = client.xinfo_stream(f"restart:{stream}")["last-generated-id"]
            if group not in groups or groups[group]["pending"]:
                return False
            if groups[group]["last-delivered-id"] != last:
                return False
    return True


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_services_on_postgresql_keep_running_through_a_redis_restart(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: serve execution and serve monitor on PostgreSQL, over a Redis of their own
    redis = RedisServer(tmp_path)
    monkeypatch.setenv("TEST_DATABASE_URL", database.engine.url.render_as_string(False))
    monkeypatch.setenv("TEST_REDIS_PASSWORD", redis.password)
    async with sandbox() as venue:
        path = tmp_path / "services.yaml"
        path.write_text(PG_CONFIG.format(port=port_of(venue), redis_port=redis.port))
        connector = connect(settings_from_config(load_config(path), runtime_dir=tmp_path / "rt"))
        publisher = RedisStreamsBus(redis.settings("restart", max_backoff_s=0.2))
        services = [Service(n, path, tmp_path, redis.password) for n in ("execution", "monitor")]
        outbox, repo = AlertOutbox(database), Repository(database)
        try:
            redis.start()
            for service in services:
                service.start()

            def logs() -> str:
                return "\n".join(f"--- {s.name}\n{s.output()[-3000:]}" for s in services)

            await until(lambda: all("Ctrl-C stops" in s.output() for s in services), logs, 60)
            # Act: a BUY published, and Redis SIGKILLed the moment it acknowledged it
            await venue.advance(1)
            buy = await signal_now(connector, SignalAction.BUY, 0)
            await publisher.publish(buy)
            redis.kill()
            # each service's calls give up after retry_for_s (0.3 s): it polls again
            polling_again = "bus unavailable, polling again"
            await until(lambda: all(polling_again in s.output() for s in services), logs, 20)
            # while it is down the next bar's signal, too old to trade, is being published
            await venue.advance(1)
            too_old = await signal_now(connector, SignalAction.SELL, 7_200_000)
            with capture_logs() as retries:
                old = asyncio.create_task(publisher.publish(too_old))
                await until(lambda: any(e.get("op") == "XADD" for e in retries), logs)
            redis.start()  # on its append-only file
            await old
            await publisher.publish(buy)  # a publisher's retry: the BUY once more
            await until(lambda: bool(raised(outbox)) and settled(redis), logs, 60)
            alive = [s.name for s in services if s.alive()]
            orders, _ = await venue_state(venue)
        finally:
            for service in services:
                service.stop()
            await connector.close()
            await publisher.close()
            redis.stop()
    # Assert: both kept running; the BUY acted on once, the old SELL recorded as skipped and
    # raised once as an alert; every row in PostgreSQL; the password never shown
    assert alive == ["execution", "monitor"], logs()
    buy_bar = json.loads(buy.to_fields()["payload"])["bar_ts_ms"]
    assert [o["clientOrderId"] for o in orders if o["side"] == "buy"] == [
        f"tb-BTCUSDT-{buy_bar}-en"
    ]
    assert [d.action.split()[0] for d in repo.decisions()] == ["buy", "skipped"]
    assert {o.client_order_id for o in repo.orders()} == {o["clientOrderId"] for o in orders}
    assert [a.title for a in raised(outbox)] == ["execution: SignalTooOld"]
    assert redis.password not in logs()
