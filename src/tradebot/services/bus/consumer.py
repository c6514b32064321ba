"""A consumer-group reader that acts on each event once: de-duplicate, handle, record, ack.

The bus delivers at least once: a publisher that retried re-sends, a consumer that died
before acknowledging has its messages taken over by another (``claim_stale``). What makes
the *effect* happen once is the processed-ids record, checked before handling and written
after it. The argument holds when the record and the effect commit together: a handler
whose effect lives in a database writes the event id in the same transaction (the record
is then the handler's own state, and ``add`` may be a no-op); a crash before that commit
leaves neither, a crash after it leaves both, and the redelivered message is recognised.
With a separate record (:class:`MemoryProcessedIds`, ``RedisProcessedIds``) a crash
between the effect and ``add`` runs the handler again, so use those for effects that are
idempotent anyway (a metric, a cache of the last bar). See docs/distributed.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from tradebot.services.bus.envelope import BusError, Envelope, EnvelopeError, Family, JsonValue
from tradebot.services.bus.port import Delivery, EventBus

log = structlog.get_logger("tradebot.bus")


class Handler(Protocol):
    """Acts on one envelope; raising leaves the message pending, to be retried."""

    async def __call__(self, envelope: Envelope) -> None:
        """Act on the envelope (commit its effect, ideally with its event id)."""
        ...


class ProcessedIds(Protocol):
    """The record of event ids a consumer group has acted on."""

    async def contains(self, event_id: str) -> bool:
        """Whether the event was acted on already."""
        ...

    async def add(self, event_id: str) -> None:
        """Record the event as acted on."""
        ...


class MemoryProcessedIds:
    """The last ``capacity`` event ids, in this process (tests, idempotent effects)."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    async def contains(self, event_id: str) -> bool:
        """Whether the id is among the remembered ones."""
        return event_id in self._ids

    async def add(self, event_id: str) -> None:
        """Remember the id, forgetting the oldest past ``capacity``."""
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


@dataclass(slots=True)
class ConsumerCounts:
    """What a consumer did with the messages it received."""

    handled: int = 0
    duplicates: int = 0  # acted on before (a redelivery or a re-sent event): acknowledged only
    refused: int = 0  # not a readable envelope: alerted and acknowledged
    failed: int = 0  # the handler raised: left pending, retried after claim_idle_ms
    bus_errors: int = 0  # a poll the bus failed (run with retry_after_s: tried again)
    parked: int = 0  # failed max_deliveries times: moved to dead_letters, alerted, acked


class BusConsumer:
    """One named consumer of a group on one family's stream.

    A (re)started consumer first re-reads what its own name left unacknowledged (one
    batch: a consumer holds at most the batch it was working on; anything beyond is taken
    over after ``claim_idle_ms``), then
    takes over messages other consumers left pending for ``claim_idle_ms`` (checked every
    half of it) and reads new ones. A batch is acknowledged in one call once every message
    in it was handled (or recognised as handled before), so a crash mid-batch redelivers
    the batch's handled messages too; the processed-ids record drops them. ``start_id`` is
    where a group created by this consumer starts (``"$"``: only what comes next).

    A message whose handler fails on its ``max_deliveries``-th delivery (``None``: retry
    for ever) is parked: copied to the ``dead_letters`` stream with the error, a
    ``MessageParked`` alert naming its event id goes on ``alerts``, and it is acknowledged,
    so one poisoned message does not come back for ever.
    """

    def __init__(
        self,
        bus: EventBus,
        family: Family,
        group: str,
        name: str,
        handler: Handler,
        processed: ProcessedIds,
        *,
        batch: int = 100,
        block_ms: int = 500,
        claim_idle_ms: int = 30_000,
        start_id: str = "0",
        max_deliveries: int | None = 10,
    ) -> None:
        self.bus, self.family, self.group, self.name = bus, family, group, name
        self._handler, self._processed = handler, processed
        self._batch, self._block_ms, self._claim_idle_ms = batch, block_ms, claim_idle_ms
        self._start_id, self._started = start_id, False
        self._max_deliveries = max_deliveries
        self._next_claim_s = 0.0
        self.counts = ConsumerCounts()

    async def poll(self) -> int:
        """Receive and process one batch; how many messages it held."""
        if not self._started:
            await self.bus.ensure_group(self.family, self.group, self._start_id)
            deliveries = await self.bus.read_own_pending(
                self.family, self.group, self.name, self._batch
            )
            self._started = True
        else:
            deliveries = await self._claim_if_due()
        if not deliveries:
            deliveries = await self.bus.read(
                self.family, self.group, self.name, self._batch, self._block_ms
            )
        done = [d.message_id for d in deliveries if await self._process(d)]
        await self.bus.ack(self.family, self.group, done)  # one round trip for the batch
        return len(deliveries)

    async def run(
        self,
        stop: asyncio.Event,
        *,
        retry_after_s: float | None = None,
        after_poll: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Poll until ``stop`` is set (noticed within ``block_ms``), calling ``after_poll``
        after each poll (in this one loop: the two never run at once).

        ``retry_after_s``: a bus error out of a poll (Redis unreachable for longer than its
        ``retry_for_s``, a refused password) is logged and the poll tried again after this
        long, for as long as it takes: the service outlives any outage of its bus (what it
        had not acknowledged is read again). Without it the error is raised.
        """
        while not stop.is_set():
            try:
                await self.poll()
            except BusError as e:
                if retry_after_s is None:
                    raise
                self.counts.bus_errors += 1
                log.error("bus unavailable, polling again", **self._who(), error=str(e),
                          retry_after_s=retry_after_s)  # fmt: skip
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry_after_s)
                continue
            if after_poll is not None:
                await after_poll()

    async def _claim_if_due(self) -> list[Delivery]:
        now = time.monotonic()
        if now < self._next_claim_s:
            return []
        self._next_claim_s = now + self._claim_idle_ms / 2000
        return await self.bus.claim_stale(
            self.family, self.group, self.name, self._claim_idle_ms, self._batch
        )

    async def _process(self, delivery: Delivery) -> bool:
        # Whether the message is done with (to acknowledge).
        try:
            envelope = delivery.envelope()
        except EnvelopeError as e:
            await self._refuse(delivery, e)
            return True
        if await self._processed.contains(envelope.event_id):
            self.counts.duplicates += 1
        else:
            try:
                await self._handler(envelope)
            except Exception as e:  # the top of this consumer's cycle: log, keep it pending, go on
                self.counts.failed += 1
                log.exception("bus handler failed", **self._where(delivery), type=envelope.type)
                return await self._park_if_exhausted(delivery, envelope, e)
            await self._processed.add(envelope.event_id)
            self.counts.handled += 1
        return True

    async def _park_if_exhausted(
        self, delivery: Delivery, envelope: Envelope, error: Exception
    ) -> bool:
        # Whether the message failed max_deliveries times and was parked (to acknowledge).
        if self._max_deliveries is None:
            return False
        pending = await self.bus.pending(self.family, self.group)
        deliveries = next((p.deliveries for p in pending if p.message_id == delivery.message_id), 0)
        if deliveries < self._max_deliveries:
            return False
        self.counts.parked += 1
        where, now_ms = self._where(delivery), int(time.time() * 1000)
        detail: dict[str, JsonValue] = {
            **where, "event_id": envelope.event_id, "deliveries": deliveries
        }  # fmt: skip
        reason = (
            f"event {envelope.event_id} ({envelope.type}) failed {deliveries} deliveries in group"
            f" {self.group}: parked on the {Family.DEAD_LETTERS.value} stream; last error: "
            f"{type(error).__name__}: {error}"
        )
        log.error("bus message parked", **detail, reason=reason)
        fields: dict[str, JsonValue] = dict(delivery.fields)
        parked: dict[str, JsonValue] = {**detail, "reason": reason, "fields": fields}
        await self.bus.publish(
            Envelope(Family.DEAD_LETTERS, envelope.type, parked, self.name, now_ms,
                     event_id=f"dead:{self.group}:{envelope.event_id}")
        )  # fmt: skip
        alert: dict[str, JsonValue] = {**detail, "reason": reason}
        await self.bus.publish(Envelope(Family.ALERTS, "MessageParked", alert, self.name, now_ms))
        return True

    async def _refuse(self, delivery: Delivery, error: EnvelopeError) -> None:
        # A person must act (upgrade a service): say so on the alerts stream, then let go of
        # the message so it does not come back forever.
        self.counts.refused += 1
        where = self._where(delivery)
        log.error("bus message refused", **where, reason=str(error))
        alert = Envelope(
            family=Family.ALERTS,
            type="EnvelopeRefused",
            payload={**where, "reason": str(error)},
            source=self.name,
            created_ms=int(time.time() * 1000),
        )
        await self.bus.publish(alert)

    def _who(self) -> dict[str, str]:
        return {"family": self.family.value, "group": self.group, "consumer": self.name}

    def _where(self, delivery: Delivery) -> dict[str, str]:
        return {**self._who(), "message_id": delivery.message_id}
