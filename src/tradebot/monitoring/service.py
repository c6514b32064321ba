"""Monitor: the AlertManager, the AlertSender and the Telegram commands, built from config.

``tradebot run`` starts one beside the bot (same process, own tasks, own database
connection); ``tradebot monitor`` runs one on its own against a bot's database. Either way
it only reads the bot's state and writes alerts, its marks and the controls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog

from tradebot.config import Config
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.monitoring.alerts import rules
from tradebot.monitoring.alerts.channel import Channel
from tradebot.monitoring.alerts.email import EmailChannel
from tradebot.monitoring.alerts.logtap import LogTap
from tradebot.monitoring.alerts.manager import AlertManager
from tradebot.monitoring.alerts.routing import EMAIL, TELEGRAM, AlertRouting
from tradebot.monitoring.alerts.sender import AlertSender
from tradebot.monitoring.alerts.telegram import TelegramApi, TelegramChannel
from tradebot.monitoring.chat.commands import CommandBot
from tradebot.monitoring.chat.views import Views
from tradebot.state.db import Database, create_database
from tradebot.state.outbox import AlertOutbox
from tradebot.state.watch import StateWatch

log = structlog.get_logger("tradebot.monitor")
RUNNING_KEY = "monitor.bot_running"


@dataclass(slots=True)
class Monitor:
    """Everything monitoring runs, and the tasks that run it."""

    manager: AlertManager
    sender: AlertSender
    tap: LogTap
    watch: StateWatch
    check_interval_s: float
    commands: CommandBot | None = None
    apis: list[TelegramApi] = field(default_factory=list)

    @classmethod
    def build(
        cls, config: Config, database: Database, latency: ConnectorMetrics | None = None
    ) -> Monitor:
        """The monitor ``config.monitoring`` asks for (alerts are kept even with no channel)."""
        settings = config.monitoring
        outbox, watch, tap = AlertOutbox(database), StateWatch(database), LogTap()
        channels: list[Channel] = []
        apis: list[TelegramApi] = []
        if settings.telegram_token is not None and settings.telegram_chat_id is not None:
            api = TelegramApi(settings.telegram_api_url, settings.telegram_token)
            apis.append(api)
            channels.append(TelegramChannel(api, settings.telegram_chat_id))
        if settings.email.smtp_host is not None:
            channels.append(EmailChannel(settings.email))
        thresholds = settings.alerts
        overrides = {TELEGRAM: thresholds.telegram, EMAIL: thresholds.email}
        routing = AlertRouting.build(
            {c.name: overrides[c.name] for c in channels}, thresholds.cooldown_s
        )
        manager = AlertManager(
            watch, outbox, routing, thresholds, config.risk.max_daily_loss, tap, latency
        )
        commands = None
        if apis and settings.telegram_users:
            views = Views(watch, outbox, tap)
            commands = CommandBot(
                apis[0], views, dict(settings.telegram_chats), dict(settings.telegram_users)
            )
        return cls(
            manager, AlertSender(outbox, channels), tap, watch, thresholds.check_interval_s,
            commands, apis,
        )  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        """Tick, deliver and answer until ``stop`` is set."""
        self.tap.attach()
        log.info(
            "monitor started",
            channels=",".join(self.sender.channel_names) or "none (alerts kept in the outbox)",
            check_interval_s=self.check_interval_s,
            commands=self.commands is not None,
        )
        tasks = [
            asyncio.create_task(self._ticks(stop)),
            asyncio.create_task(self.sender.run(stop)),
        ]
        # A long poll of getUpdates may hang for its whole timeout: cancelled, not awaited.
        polling = None
        if self.commands is not None:
            polling = asyncio.create_task(self.commands.run(stop))
        try:
            await asyncio.gather(*tasks)
        finally:
            if polling is not None:
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
            self.tap.detach()

    async def _ticks(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.manager.tick)
            except Exception:  # the top of the alert loop: log and go on
                log.exception("alert check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.check_interval_s)

    # ------------------------------------------------------------------ the bot's life
    def bot_starting(self) -> None:
        """Note that the bot runs; alert if its last run never said it stopped."""
        repo = self.watch.repository
        previous = repo.get_control(RUNNING_KEY)
        if previous:
            self.manager.raise_now(
                rules.bot_stopped(f"The previous run ({previous}) ended without a clean stop.")
            )
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        repo.set_control(RUNNING_KEY, f"PID {os.getpid()} on {socket.gethostname()} since {since}")

    def bot_stopped(self, error: BaseException | None) -> None:
        """Note the bot's end: clean, or an alert naming what stopped it."""
        if error is not None:
            self.manager.raise_now(
                rules.bot_stopped(f"The bot stopped on an error: {type(error).__name__}: {error}")
            )
        self.watch.repository.set_control(RUNNING_KEY, "")

    async def flush(self, timeout_s: float = 10.0) -> None:
        """Check once more and deliver what is due, for at most ``timeout_s``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await asyncio.to_thread(self.manager.tick)
                await self.sender.deliver_due()

    async def close(self) -> None:
        """Close the Telegram connections."""
        for api in self.apis:
            await api.close()


@asynccontextmanager
async def monitoring(
    config: Config, latency: ConnectorMetrics | None = None
) -> AsyncIterator[Monitor]:
    """Run a Monitor beside the bot for the block: notes the bot's start, alerts if the block
    ends on an error, and delivers what is due before it returns."""
    database = create_database(config.database.sqlalchemy_url)
    monitor = Monitor.build(config, database, latency)
    stop = asyncio.Event()
    monitor.bot_starting()
    task = asyncio.create_task(monitor.run(stop))
    error: BaseException | None = None
    try:
        yield monitor
    except Exception as exc:
        error = exc
        raise
    finally:
        monitor.bot_stopped(error)
        stop.set()
        await task
        await monitor.flush()
        await monitor.close()
        database.close()
