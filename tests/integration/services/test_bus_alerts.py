"""The monitor on the bus: an alert a service publishes becomes one alert in the outbox,
routed and delivered like the monitor's own, and only one however often it is delivered."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path

from prometheus_client import generate_latest

from ports import free_port
from redis_server import RedisServer
from tradebot.config.monitoring import AlertThresholds
from tradebot.monitoring.alerts.manager import AlertManager
from tradebot.monitoring.alerts.routing import AlertRouting
from tradebot.monitoring.bus_metrics import BusStats, bus_registry
from tradebot.services.alerts import BusAlerts
from tradebot.services.bus import (
    BusConsumer,
    BusUnavailable,
    Envelope,
    EventBus,
    Family,
    MemoryBus,
)
from tradebot.services.bus.redis_streams import RedisStreamsBus
from tradebot.services.metrics import bus_stats
from tradebot.state import create_database
from tradebot.state.db import Database
from tradebot.state.outbox import AlertOutbox
from tradebot.state.watch import StateWatch

REASON = "signal sig-1 arrived 7260.0 s after its bar was seen closed: not traded"


def _too_old(event_id: str = "alert-1") -> Envelope:
    # What the execution service publishes when it refuses an old signal.
    payload = {"event_id": "sig-1", "age_ms": 7_260_000, "reason": REASON}
    return Envelope(Family.ALERTS, "SignalTooOld", payload, "execution", 1_733_011_200_000,
                    event_id=event_id)  # fmt: skip


def _monitor(
    database: Database, bus: EventBus, name: str = "mon-a", group: str = "monitor"
) -> BusConsumer:
    outbox = AlertOutbox(database)
    routing = AlertRouting.build({"telegram": {}, "email": {}}, 900)
    manager = AlertManager(
        StateWatch(database), outbox, routing, AlertThresholds(), Decimal(500), None
    )
    alerts = BusAlerts(manager, StateWatch(database).repository)
    return BusConsumer(bus, Family.ALERTS, group, name, alerts, alerts, block_ms=10)


def test_a_published_alert_is_one_outbox_alert_once_however_delivered(
    database: Database,
) -> None:
    # The monitor's outbox and its processed-ids marks on SQLite and on PostgreSQL.
    db = database

    async def scenario() -> None:
        bus = MemoryBus()
        await bus.publish(_too_old())
        first = _monitor(db, bus)
        assert await first.poll() == 1
        await bus.publish(_too_old())  # the publisher re-sent it (same event id)
        await first.poll()
        # A restarted monitor whose group lost its acknowledgements reads it all again.
        again = _monitor(db, bus, "mon-b", "monitor-again")
        assert await again.poll() == 2
        assert (first.counts.handled, first.counts.duplicates, again.counts.duplicates) == (1, 1, 2)

    asyncio.run(scenario())
    outbox = AlertOutbox(db)
    (alert,) = outbox.alerts()
    assert (alert.rule, alert.severity) == ("service_alert", "critical")
    assert alert.title == "execution: SignalTooOld"
    assert REASON in alert.body
    entries = sorted((e.channel, e.status) for e in outbox.recent())
    assert entries == [("email", "pending"), ("telegram", "pending")]


def test_over_redis_the_monitor_group_delivers_each_alert_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    db = create_database(tmp_path / "bot.db")

    async def scenario() -> None:
        bus = RedisStreamsBus(redis_server.settings("busalerts"))
        try:
            await bus.publish(_too_old("alert-1"))
            await bus.publish(_too_old("alert-2"))
            await bus.publish(_too_old("alert-1"))
            consumer = _monitor(db, bus)
            while await consumer.poll():
                pass
            assert (consumer.counts.handled, consumer.counts.duplicates) == (2, 1)
        finally:
            await bus.close()

    asyncio.run(scenario())
    outbox = AlertOutbox(db)
    assert len(outbox.alerts()) == 2
    assert outbox.counts()["pending"] == 4  # two alerts, telegram and e-mail each


CONFIG = """\
services:
  bus: {{url: "redis://127.0.0.1:{port}/0", password: "${{TEST_REDIS_PASSWORD}}",
         prefix: {prefix}}}
monitoring: {{metrics_port: {metrics_port}}}
"""


def scrape(port: int) -> str:
    """The monitor's /metrics page (loopback)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def test_serve_monitor_raises_the_services_alerts(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    db, config = tmp_path / "bot.db", tmp_path / "monitor.yaml"
    metrics_port = free_port()
    text = CONFIG.format(port=redis_server.port, prefix="servemon", metrics_port=metrics_port)
    config.write_text(text, encoding="utf-8")
    create_database(db)  # the database the execution service writes
    env = {**os.environ, "TEST_REDIS_PASSWORD": redis_server.password}
    args = ["serve", "monitor", "-c", str(config), "--db", str(db), "--name", "mon-1"]
    command = [sys.executable, "-c", "from tradebot.cli import main; main()", *args]
    log = tmp_path / "monitor.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    outbox = AlertOutbox(create_database(db))
    try:

        async def publish() -> None:
            bus = RedisStreamsBus(redis_server.settings("servemon"))
            try:
                await bus.publish(_too_old())
            finally:
                await bus.close()

        asyncio.run(publish())
        deadline = time.monotonic() + 30
        while not outbox.alerts():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        # the bus's metrics once the monitor has counted the alert it raised
        raised = 'tradebot_bus_alerts_raised_total{type="SignalTooOld"} 1.0'
        page = ""
        while raised not in page:
            assert time.monotonic() < deadline, page
            page = scrape(metrics_port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    (alert,) = outbox.alerts()
    assert alert.title == "execution: SignalTooOld"
    # the alert read and acknowledged by the monitor group
    assert 'tradebot_bus_group_pending{group="monitor",stream="alerts"} 0.0' in page
    assert 'tradebot_bus_stream_length{stream="alerts"} 1.0' in page
    assert redis_server.password not in log.read_text()
    # logged at monitoring.log_level (INFO by default), as tradebot run logs
    assert "metrics served" in log.read_text()


async def test_bus_metrics_show_each_group_lag_pending_redeliveries_and_alerts() -> None:
    # Arrange: three bars; the strategy group read two, never acknowledged them, and had
    # them delivered again (a failing handler); the monitor raised two SignalTooOld alerts
    bus = MemoryBus()
    await bus.ensure_group(Family.MARKET_DATA, "strategy")
    for n in range(3):
        await bus.publish(Envelope(Family.MARKET_DATA, "CandleClosed", {"n": n}, "md", n))
    await bus.read(Family.MARKET_DATA, "strategy", "s-1", count=2, block_ms=0)
    await bus.claim_stale(Family.MARKET_DATA, "strategy", "s-1", min_idle_ms=0, count=10)
    registry = bus_registry(lambda: bus_stats(bus), Counter({"SignalTooOld": 2}))

    async def down() -> BusStats:
        raise BusUnavailable("redis at 127.0.0.1:1 unreachable for 60 s")

    # Act: a scrape, from another thread as prometheus-client's server scrapes
    page = (await asyncio.to_thread(generate_latest, registry)).decode()
    unreachable = bus_registry(down, Counter())
    page_down = (await asyncio.to_thread(generate_latest, unreachable)).decode()

    # Assert
    group = 'group="strategy",stream="market_data"'
    for line in (
        "tradebot_bus_up 1.0",
        'tradebot_bus_stream_length{stream="market_data"} 3.0',
        f"tradebot_bus_group_pending{{{group}}} 2.0",
        f"tradebot_bus_group_lag{{{group}}} 1.0",
        f"tradebot_bus_group_redelivered{{{group}}} 2.0",
        'tradebot_bus_alerts_raised_total{type="SignalTooOld"} 2.0',
    ):
        assert line in page.splitlines(), line
    assert "tradebot_bus_up 0.0" in page_down.splitlines()
