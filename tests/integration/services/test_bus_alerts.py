"""The monitor on the bus: an alert a service publishes becomes one alert in the outbox,
routed and delivered like the monitor's own, and only one however often it is delivered."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from redis_server import RedisServer
from tradebot.config.monitoring import AlertThresholds
from tradebot.monitoring.alerts.manager import AlertManager
from tradebot.monitoring.alerts.routing import AlertRouting
from tradebot.services.alerts import BusAlerts
from tradebot.services.bus import BusConsumer, Envelope, EventBus, Family, MemoryBus
from tradebot.services.bus.redis_streams import RedisStreamsBus
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
"""


def test_serve_monitor_raises_the_services_alerts(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    db, config = tmp_path / "bot.db", tmp_path / "monitor.yaml"
    config.write_text(CONFIG.format(port=redis_server.port, prefix="servemon"), encoding="utf-8")
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
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    (alert,) = outbox.alerts()
    assert alert.title == "execution: SignalTooOld"
    assert redis_server.password not in log.read_text()
