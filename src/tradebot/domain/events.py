"""Inputs of the engine core. Events are facts, named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass

from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, Fill, OrderStatus


@dataclass(frozen=True, slots=True)
class BarClosed:
    """A candle of the traded timeframe has closed."""

    symbol: str
    timeframe: str
    candle: Candle


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """(Part of) an order executed."""

    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order changed status without a fill (accepted, canceled, rejected, expired)."""

    client_order_id: ClientOrderId
    symbol: str
    status: OrderStatus
    ts_ms: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A wall-clock tick for time-based housekeeping (limit order timeouts)."""

    ts_ms: int


Event = BarClosed | OrderFilled | OrderUpdated | TimerFired
