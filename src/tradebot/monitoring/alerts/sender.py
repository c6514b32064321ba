"""AlertSender: deliver what the outbox holds, part by part, recording each part at once.

Per channel, oldest first: a part the channel accepts is recorded before the next is sent,
so a sender killed anywhere resumes after a restart with the first part not recorded. A
429 pauses the whole channel for exactly the ``retry_after`` Telegram asked for (it limits
the bot, not one message; the pause is saved in the outbox, so a restarted sender keeps it
and the order of the alerts); a network error or 5xx backs off exponentially, per delivery,
up to ``max_backoff_s``; a refusal (400, a 5xx SMTP answer) fails that delivery for good and
is logged, and the next alert still goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog

from tradebot.monitoring.alerts.channel import Channel, Outcome, Result
from tradebot.state.outbox import AlertOutbox, Delivery

log = structlog.get_logger("tradebot.alerts")


class AlertSender:
    """Delivers due outbox rows on each channel."""

    def __init__(
        self,
        outbox: AlertOutbox,
        channels: Sequence[Channel],
        base_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        """Send from ``outbox`` through ``channels``."""
        self._outbox = outbox
        self._channels = list(channels)
        self._base_backoff_s = base_backoff_s
        self._max_backoff_s = max_backoff_s
        self.delivered_parts = 0

    @property
    def channel_names(self) -> list[str]:
        """The channels alerts go out on (``telegram``, ``email``); none keeps them stored."""
        return [channel.name for channel in self._channels]

    async def deliver_due(self) -> int:
        """One pass over every channel; how many parts were delivered."""
        before = self.delivered_parts
        for channel in self._channels:
            if self._outbox.is_paused(channel.name):
                continue
            for delivery in self._outbox.due(channel.name):
                if not await self._deliver(channel, delivery):
                    break  # rate-limited: the channel waits as a whole
        return self.delivered_parts - before

    async def run(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """Deliver until ``stop`` is set, looking at the outbox every ``interval_s``."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:  # the top of the sender's loop: log and go on
                log.exception("alert delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    async def _deliver(self, channel: Channel, delivery: Delivery) -> bool:
        """Send the parts not yet accepted; False when the channel must pause."""
        parts = channel.parts(delivery)
        for index in range(delivery.parts_sent, len(parts)):
            outcome = await channel.send(parts[index], delivery)
            if outcome.result is Result.DELIVERED:
                self._outbox.record_parts(delivery.id, index + 1, done=index + 1 == len(parts))
                self.delivered_parts += 1
                continue
            return self._failed(channel, delivery, outcome)
        return True

    def _failed(self, channel: Channel, delivery: Delivery, outcome: Outcome) -> bool:
        fields = {"channel": channel.name, "alert_id": delivery.alert_id, "error": outcome.error}
        if outcome.result is Result.REFUSED:
            self._outbox.mark_failed(delivery.id, outcome.error)
            log.error("alert refused by its channel; not retried", **fields)
            return True
        limited = outcome.result is Result.RATE_LIMITED
        if limited:
            delay_s = outcome.retry_after_s
        else:
            delay_s = min(self._base_backoff_s * 2**delivery.attempts, self._max_backoff_s)
        pause = channel.name if limited else None
        self._outbox.retry_later(delivery.id, round(delay_s * 1000), outcome.error, pause)
        log.warning("alert not delivered; retrying", retry_in_s=delay_s, **fields)
        return not limited
