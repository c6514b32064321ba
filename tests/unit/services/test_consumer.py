"""BusConsumer over the in-memory bus: each event acted on once, whatever the bus repeats."""

from __future__ import annotations

from tradebot.services.bus import (
    BusConsumer,
    Envelope,
    Family,
    MemoryBus,
    MemoryProcessedIds,
)

SIG = Family.SIGNALS


class Recorder:
    """A handler that records what it acted on and can be told to fail once."""

    def __init__(self, fail_first: int = 0) -> None:
        self.acted: list[str] = []
        self._fail = fail_first

    async def __call__(self, envelope: Envelope) -> None:
        if self._fail:
            self._fail -= 1
            raise RuntimeError("exchange timed out")
        self.acted.append(envelope.event_id)


def _signal(event_id: str) -> Envelope:
    return Envelope(SIG, "Signal", {"symbol": "BTC/USDT"}, "strategy", 1, event_id=event_id)


def _consumer(bus: MemoryBus, handler: Recorder, name: str = "exec-1") -> BusConsumer:
    return BusConsumer(
        bus, SIG, "execution", name, handler, MemoryProcessedIds(), block_ms=0, claim_idle_ms=0
    )


async def test_consumer_same_event_published_twice_acts_once_and_acks_both() -> None:
    # Arrange: a publisher retried after a lost reply
    bus, handler = MemoryBus(), Recorder()
    consumer = _consumer(bus, handler)
    await bus.publish(_signal("sig-1"))
    await bus.publish(_signal("sig-1"))

    # Act
    await consumer.poll()

    # Assert
    assert handler.acted == ["sig-1"]
    assert (consumer.counts.handled, consumer.counts.duplicates) == (1, 1)
    assert await bus.pending(SIG, "execution") == []


async def test_consumer_message_left_by_dead_consumer_is_taken_over_and_acted_on_once() -> None:
    # Arrange: "exec-dead" read the signal and died before acknowledging it
    bus, handler = MemoryBus(), Recorder()
    await bus.ensure_group(SIG, "execution")
    await bus.publish(_signal("sig-1"))
    await bus.read(SIG, "execution", "exec-dead", count=10, block_ms=0)
    consumer = _consumer(bus, handler, name="exec-2")

    # Act
    await consumer.poll()  # first poll: its own (empty) backlog, then new (none)
    await consumer.poll()  # claims the dead consumer's message
    await consumer.poll()

    # Assert
    assert handler.acted == ["sig-1"]
    assert await bus.pending(SIG, "execution") == []


async def test_consumer_restarted_under_same_name_reads_its_backlog_first() -> None:
    # Arrange
    bus, handler = MemoryBus(), Recorder()
    await bus.ensure_group(SIG, "execution")
    await bus.publish(_signal("sig-1"))
    await bus.read(SIG, "execution", "exec-1", count=10, block_ms=0)
    restarted = BusConsumer(
        bus, SIG, "execution", "exec-1", handler, MemoryProcessedIds(), block_ms=0
    )

    # Act
    await restarted.poll()

    # Assert
    assert handler.acted == ["sig-1"]


async def test_consumer_handler_failure_leaves_message_pending_then_retries() -> None:
    # Arrange
    bus, handler = MemoryBus(), Recorder(fail_first=1)
    consumer = _consumer(bus, handler)
    await bus.publish(_signal("sig-1"))

    # Act
    await consumer.poll()
    pending_after_failure = len(await bus.pending(SIG, "execution"))
    await consumer.poll()

    # Assert
    assert pending_after_failure == 1
    assert handler.acted == ["sig-1"]
    assert (consumer.counts.failed, consumer.counts.handled) == (1, 1)
    assert await bus.pending(SIG, "execution") == []


async def test_consumer_unknown_version_is_refused_alerted_and_acked() -> None:
    # Arrange: a newer publisher wrote envelope version 2
    bus, handler = MemoryBus(), Recorder()
    consumer = _consumer(bus, handler)
    await bus.ensure_group(Family.ALERTS, "monitor")
    await bus.ensure_group(SIG, "execution")
    newer = Envelope(SIG, "Signal", {}, "strategy", 1, event_id="sig-v2", version=2)
    await bus.publish(newer)

    # Act
    await consumer.poll()
    alerts = await bus.read(Family.ALERTS, "monitor", "m", count=10, block_ms=0)

    # Assert
    assert handler.acted == []
    assert consumer.counts.refused == 1
    assert await bus.pending(SIG, "execution") == []
    alert = alerts[0].envelope()
    assert alert.type == "EnvelopeRefused"
    assert "sig-v2 has envelope schema version '2'" in str(alert.payload["reason"])
