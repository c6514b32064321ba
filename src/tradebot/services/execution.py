"""``tradebot serve execution``: the only writer of orders; it acts on published signals.

It is the single process's ``TradingBot`` with the strategies answered by the strategy
service (``PublishedSignals``): the same engine decides through its one door, the same
shell saves each decision with its order intents (and the bar marked decided) before
anything is sent, follows the venue's fills and order states, and reconciles with the
exchange at start. Nothing is copied; only where the signal comes from differs.

A signal is acted on at most once: the bar-decided mark, committed with the decision and
its intents, is the record of signals handled (a redelivered or re-published signal of a
bar already decided is acknowledged and dropped). A signal whose bar closed longer ago than
``max_signal_age_ms`` is never traded: its bars are recorded as skipped, with the reason,
and an alert says so. The age runs from when the market-data service published the bar
(``observed_ms``) to now by this host's clock, so the services' hosts keep their clocks
in sync (NTP), as any exchange client must.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from tradebot.domain.market import timeframe_to_ms
from tradebot.orchestrator.live import TradingBot
from tradebot.services.bus import BusError, Envelope, EventBus, Family
from tradebot.services.messages import SignalsDecided
from tradebot.services.published import PublishedSignals

log = structlog.get_logger("tradebot.services.execution")


class SignalNotActed(BusError):
    """The cycle a signal called for failed; the message stays pending to be retried."""


@dataclass(slots=True)
class ExecutionCounts:
    """What the service did with the signals it received."""

    acted: int = 0
    already_decided: int = 0
    too_old: int = 0
    refused: int = 0  # another timeframe than the one traded


class ExecutionService:
    """Acts on ``SignalsDecided`` messages through ``bot`` (started by ``start``)."""

    def __init__(
        self,
        bot: TradingBot,
        published: Mapping[str, PublishedSignals],
        bus: EventBus,
        max_signal_age_ms: int,
        source: str = "execution",
        clock: Callable[[], float] = time.time,
        sync_interval_s: float = 10.0,
    ) -> None:
        """``published``: the stand-in strategy of each symbol in ``bot``'s engine;
        ``clock``: seconds since the epoch (a test's own); ``sync_interval_s``: how often
        ``sync_when_due`` syncs."""
        self._clock, self._sync_interval_s = clock, sync_interval_s
        self._synced_s: float | None = None
        self.bot, self.published, self.bus = bot, dict(published), bus
        self.max_signal_age_ms = max_signal_age_ms
        self.bar_ms = timeframe_to_ms(bot.settings.timeframe)
        self.source = source
        self.counts = ExecutionCounts()

    async def start(self) -> None:
        """Restore state and reconcile it with the exchange (the single process's start)."""
        await self.bot.start()

    async def __call__(self, envelope: Envelope) -> None:
        """Act on one bar time's signals, unless already decided or too old."""
        message = SignalsDecided.of(envelope)
        bot, ts = self.bot, message.bar_ts_ms
        tf = bot.settings.timeframe
        due = {
            s: x
            for s, x in message.symbols.items()
            if s in bot.settings.symbols and ts > (bot.repo.last_bar_ts(s, tf) or -1)
        }
        if message.timeframe != tf:
            self.counts.refused += 1
            log.error("signal of another timeframe", event_id=envelope.event_id, timeframe=tf)
            return
        if not due:
            self.counts.already_decided += 1
            log.info("signal already acted on", event_id=envelope.event_id)
            return
        age_ms = int(self._clock() * 1000) - message.observed_ms
        if age_ms > self.max_signal_age_ms:
            await self._refuse_old(envelope, message, list(due), age_ms)
            return
        for symbol, x in due.items():
            self.published[symbol].publish(ts, x.signal, x.indicators)
        windows = {s: x.candles for s, x in due.items()}
        if not await bot.guarded(lambda: bot.cycle(windows)):
            # Left pending: retried after claim_idle_s, unless too old by then (as the
            # single process decides a bar again at its next poll, within its age limit).
            raise SignalNotActed(f"signal {envelope.event_id}: the cycle failed (logged)")
        self.counts.acted += 1

    async def sync(self) -> bool:
        """Book fills and follow orders between bars (a stop filled, a limit entry); False
        when it failed (logged; the next sync or bar catches up)."""
        return await self.bot.guarded(self.bot.sync_exchange)

    async def sync_when_due(self) -> None:
        """Sync if ``sync_interval_s`` has passed since the last (the service's loop calls
        this after each read of the bus, so that a sync never runs beside a signal); while
        the exchange is unreachable, every ``downtime.health_check_interval_s`` instead, as
        ``tradebot run`` looks again (the bot's ``health_check_interval_s``)."""
        now, last = self._clock(), self._synced_s
        interval_s = self._sync_interval_s
        if self.bot.downtime.failures:
            interval_s = self.bot.settings.health_check_interval_s
        if last is None:  # the first call: the start has just reconciled
            self._synced_s = now
        elif now - last >= interval_s or now < last:
            self._synced_s = now  # counted from the start: a failed sync waits its turn
            await self.sync()

    async def _refuse_old(
        self, envelope: Envelope, message: SignalsDecided, symbols: list[str], age_ms: int
    ) -> None:
        reason = (
            f"signal {envelope.event_id} arrived {age_ms / 1000:.1f} s after its bar was seen "
            "closed, "
            f"older than services.execution.max_signal_age_s "
            f"({self.max_signal_age_ms / 1000:g} s): not traded"
        )
        for symbol in symbols:
            self.bot.skip(symbol, [message.symbols[symbol].candles[-1]], reason)
        self.counts.too_old += 1
        log.warning("signal too old", event_id=envelope.event_id, age_s=age_ms / 1000)
        alert = Envelope(
            Family.ALERTS,
            "SignalTooOld",
            {"event_id": envelope.event_id, "age_ms": age_ms, "reason": reason},
            self.source,
            int(self._clock() * 1000),
        )
        await self.bus.publish(alert)
