"""The event bus: a port, an in-memory implementation (the default) and Redis Streams.

Services publish :class:`Envelope` s to one stream per :class:`Family` and read them through
consumer groups with :class:`BusConsumer`, which acts on each event id once.
"""

from tradebot.services.bus.consumer import (
    BusConsumer,
    ConsumerCounts,
    Handler,
    MemoryProcessedIds,
    ProcessedIds,
)
from tradebot.services.bus.envelope import (
    SCHEMA_VERSION,
    BusError,
    BusUnavailable,
    Envelope,
    EnvelopeError,
    Family,
    JsonValue,
    UnsupportedEnvelope,
)
from tradebot.services.bus.memory import MemoryBus
from tradebot.services.bus.port import Delivery, EventBus, GroupInfo, PendingEntry, stream_name

__all__ = [
    "SCHEMA_VERSION",
    "BusConsumer",
    "BusError",
    "BusUnavailable",
    "ConsumerCounts",
    "Delivery",
    "Envelope",
    "EnvelopeError",
    "EventBus",
    "Family",
    "GroupInfo",
    "Handler",
    "JsonValue",
    "MemoryBus",
    "MemoryProcessedIds",
    "PendingEntry",
    "ProcessedIds",
    "UnsupportedEnvelope",
    "stream_name",
]
