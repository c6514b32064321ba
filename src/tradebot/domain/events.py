"""Inputs of the engine core: the one vocabulary every shell speaks to ``TradingEngine.handle``.

Events are facts, named in the past tense. The backtester, the paper/live shell and recovery
only translate what happened (a bar closed, a venue's answer, an operator's command, a saved
record) into these and hand them to the engine's one door; none of them edits the engine.
Every market-facing event carries its symbol, so one engine can trade many. Events are named
tuples: immutable, and several times cheaper to make than frozen dataclasses (the backtester
makes one per bar it visits).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from tradebot.domain.decisions import KillSwitch
from tradebot.domain.locks import Lock
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderStatus


class BarClosed(NamedTuple):
    """The bar at position ``bar`` of the symbol's prepared bars (opened at ``ts_ms``) closed.

    The bars themselves (candles plus the strategy's indicators, computed once) are handed to
    the engine with ``TradingEngine.prepare``; the event only says which one just closed.
    """

    symbol: str
    ts_ms: int
    bar: int


class OrderFilled(NamedTuple):
    """(Part of) an order executed. The fill's ``trade_id`` is its identity at the venue."""

    fill: Fill

    @property
    def symbol(self) -> str:
        """The fill's symbol."""
        return self.fill.symbol


class OrderUpdated(NamedTuple):
    """The venue reported an order's status, without a fill.

    ``status`` is one of: OPEN (accepted), CANCELED, EXPIRED (an OCO partner, an IOC/FOK
    remainder), REJECTED (refused, or never sent), UNKNOWN (the answer was lost). A partner
    leg of an OCO list is closed only by such a report, never inferred by the engine.
    """

    client_order_id: ClientOrderId
    symbol: str
    status: OrderStatus
    ts_ms: int
    reason: str = ""
    exchange_order_id: str | None = None


class KillSwitchSet(NamedTuple):
    """An operator (or the persisted control state) set the kill switch.

    It applies to the whole portfolio, so it has no symbol.
    """

    level: KillSwitch
    reason: str = ""


class FlattenRequested(NamedTuple):
    """An operator asked to cancel every order of ``symbol`` and sell it at market."""

    symbol: str
    ts_ms: int
    reason: str = "flatten requested"


class PositionReconciled(NamedTuple):
    """The venue holds ``qty`` of ``symbol`` where the books say otherwise: the venue wins.

    The engine books the difference as a ledger adjustment valued at ``price`` (the position's
    average cost when not given), so cash, positions, fees and PnL still add up.
    """

    symbol: str
    qty: Decimal
    ts_ms: int
    reason: str = ""
    price: Decimal | None = None


class CashReconciled(NamedTuple):
    """The venue holds ``cash`` of the quote currency where the books say otherwise.

    The difference is taken as money moved in or out of the account (a deposit, a
    withdrawal): it changes the starting cash, not the PnL.
    """

    cash: Decimal
    reason: str = ""
    venue: str | None = None
    """Whose cash: a venue id of a portfolio spanning several (None: the one account)."""


class StateRestored(NamedTuple):
    """Saved state replayed at start: the symbol's working orders (with their fills), every
    saved fill, the ids of orders closed before (never to be sent again), and the ATR each
    working entry was decided with (its stop is placed from it when it fills)."""

    symbol: str
    open_orders: tuple[Order, ...]
    fills: tuple[Fill, ...]
    closed_order_ids: frozenset[str] = frozenset()
    entry_atr: tuple[tuple[ClientOrderId, float | None], ...] = ()


class DayRestored(NamedTuple):
    """After a restart: the UTC day being traded and its starting equity (daily loss limit)."""

    day: int
    day_start_equity: Decimal


class LocksRestored(NamedTuple):
    """The protections' locks in force are exactly ``locks``: the saved ones after a
    restart, or what is left after a person removed some (``tradebot locks unlock``)."""

    locks: tuple[Lock, ...]


class Restarted(NamedTuple):
    """The bot started again after bar ``bar`` of the symbol's prepared bars (opened at
    ``ts_ms``) had closed and been decided; the bar is not decided again. The exit
    ``unsent_exit`` (decided, saved, never sent: recovery closed it) is sent now; with none,
    a position nothing guards (its stop's intent saved and never sent) is protected as that
    close would protect it, at start rather than at the next close."""

    symbol: str
    ts_ms: int
    bar: int
    unsent_exit: ClientOrderId | None = None


class TimerFired(NamedTuple):
    """A wall-clock tick for time-based housekeeping."""

    ts_ms: int


Event = (
    BarClosed
    | OrderFilled
    | OrderUpdated
    | KillSwitchSet
    | FlattenRequested
    | PositionReconciled
    | CashReconciled
    | StateRestored
    | DayRestored
    | LocksRestored
    | Restarted
    | TimerFired
)
