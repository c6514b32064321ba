"""Inputs of the engine core: the one vocabulary every shell speaks to ``TradingEngine.handle``.

Events are facts, named in the past tense. The backtester, the paper/live shell and recovery
only translate what happened (a bar closed, a venue's answer, an operator's command, a saved
record) into these and hand them to the engine's one door; none of them edits the engine.
Every market-facing event carries its symbol, so one engine can trade many. Events are
records (``tradebot.domain.records``): immutable by contract, and cheap to make (the
backtester makes one per bar it visits).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradebot.domain.decisions import KillSwitch
from tradebot.domain.locks import Lock
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderStatus
from tradebot.domain.records import field_values


@dataclass(slots=True, unsafe_hash=True, init=False)
class BarClosed:
    """The bar at position ``bar`` of the symbol's prepared bars (opened at ``ts_ms``) closed.

    The bars themselves (candles plus the strategy's indicators, computed once) are handed to
    the engine with ``TradingEngine.prepare``; the event only says which one just closed.

    ``may_signal`` is False when the strategy named the bars it can signal at
    (``Strategy.signal_candidates``) and this is not one: a backtest's visit for an order's
    sake. The engine then takes HOLD without asking, as at the bars skipped around it.
    """

    symbol: Final[str]
    ts_ms: Final[int]
    bar: Final[int]
    may_signal: Final[bool]

    def __init__(self, symbol: str, ts_ms: int, bar: int, may_signal: bool = True) -> None:
        self.symbol = symbol
        self.ts_ms = ts_ms
        self.bar = bar
        self.may_signal = may_signal

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return BarClosed, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class OrderFilled:
    """(Part of) an order executed. The fill's ``trade_id`` is its identity at the venue."""

    fill: Final[Fill]

    def __init__(
        self,
        fill: Fill,
    ) -> None:
        self.fill = fill

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return OrderFilled, field_values(self)

    @property
    def symbol(self) -> str:
        """The fill's symbol."""
        return self.fill.symbol


@dataclass(slots=True, unsafe_hash=True, init=False)
class OrderUpdated:
    """The venue reported an order's status, without a fill.

    ``status`` is one of: OPEN (accepted), CANCELED, EXPIRED (an OCO partner, an IOC/FOK
    remainder), REJECTED (refused, or never sent), UNKNOWN (the answer was lost). A partner
    leg of an OCO list is closed only by such a report, never inferred by the engine.
    """

    client_order_id: Final[ClientOrderId]
    symbol: Final[str]
    status: Final[OrderStatus]
    ts_ms: Final[int]
    reason: Final[str]
    exchange_order_id: Final[str | None]

    def __init__(
        self,
        client_order_id: ClientOrderId,
        symbol: str,
        status: OrderStatus,
        ts_ms: int,
        reason: str = "",
        exchange_order_id: str | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.status = status
        self.ts_ms = ts_ms
        self.reason = reason
        self.exchange_order_id = exchange_order_id

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return OrderUpdated, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class KillSwitchSet:
    """An operator (or the persisted control state) set the kill switch.

    It applies to the whole portfolio, so it has no symbol.
    """

    level: Final[KillSwitch]
    reason: Final[str]

    def __init__(
        self,
        level: KillSwitch,
        reason: str = "",
    ) -> None:
        self.level = level
        self.reason = reason

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return KillSwitchSet, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class FlattenRequested:
    """An operator asked to cancel every order of ``symbol`` and sell it at market."""

    symbol: Final[str]
    ts_ms: Final[int]
    reason: Final[str]

    def __init__(
        self,
        symbol: str,
        ts_ms: int,
        reason: str = "flatten requested",
    ) -> None:
        self.symbol = symbol
        self.ts_ms = ts_ms
        self.reason = reason

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return FlattenRequested, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class PositionReconciled:
    """The venue holds ``qty`` of ``symbol`` where the books say otherwise: the venue wins.

    The engine books the difference as a ledger adjustment valued at ``price`` (the position's
    average cost when not given), so cash, positions, fees and PnL still add up.
    """

    symbol: Final[str]
    qty: Final[Decimal]
    ts_ms: Final[int]
    reason: Final[str]
    price: Final[Decimal | None]

    def __init__(
        self,
        symbol: str,
        qty: Decimal,
        ts_ms: int,
        reason: str = "",
        price: Decimal | None = None,
    ) -> None:
        self.symbol = symbol
        self.qty = qty
        self.ts_ms = ts_ms
        self.reason = reason
        self.price = price

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return PositionReconciled, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class CashReconciled:
    """The venue holds ``cash`` of the quote currency where the books say otherwise.

    The difference is taken as money moved in or out of the account (a deposit, a
    withdrawal): it changes the starting cash, not the PnL.
    """

    cash: Final[Decimal]
    reason: Final[str]
    venue: Final[str | None]
    """Whose cash: a venue id of a portfolio spanning several (None: the one account)."""

    def __init__(
        self,
        cash: Decimal,
        reason: str = "",
        venue: str | None = None,
    ) -> None:
        self.cash = cash
        self.reason = reason
        self.venue = venue

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return CashReconciled, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class StateRestored:
    """Saved state replayed at start: the symbol's working orders (with their fills), every
    saved fill, the ids of orders closed before (never to be sent again), and the ATR each
    working entry was decided with (its stop is placed from it when it fills)."""

    symbol: Final[str]
    open_orders: Final[tuple[Order, ...]]
    fills: Final[tuple[Fill, ...]]
    closed_order_ids: Final[frozenset[str]]
    entry_atr: Final[tuple[tuple[ClientOrderId, float | None], ...]]

    def __init__(
        self,
        symbol: str,
        open_orders: tuple[Order, ...],
        fills: tuple[Fill, ...],
        closed_order_ids: frozenset[str] = frozenset(),
        entry_atr: tuple[tuple[ClientOrderId, float | None], ...] = (),
    ) -> None:
        self.symbol = symbol
        self.open_orders = open_orders
        self.fills = fills
        self.closed_order_ids = closed_order_ids
        self.entry_atr = entry_atr

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return StateRestored, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class DayRestored:
    """After a restart: the UTC day being traded and its starting equity (daily loss limit)."""

    day: Final[int]
    day_start_equity: Final[Decimal]

    def __init__(
        self,
        day: int,
        day_start_equity: Decimal,
    ) -> None:
        self.day = day
        self.day_start_equity = day_start_equity

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return DayRestored, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class LocksRestored:
    """The protections' locks in force are exactly ``locks``: the saved ones after a
    restart, or what is left after a person removed some (``tradebot locks unlock``)."""

    locks: Final[tuple[Lock, ...]]

    def __init__(
        self,
        locks: tuple[Lock, ...],
    ) -> None:
        self.locks = locks

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return LocksRestored, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class Restarted:
    """The bot started again after bar ``bar`` of the symbol's prepared bars (opened at
    ``ts_ms``) had closed and been decided; the bar is not decided again. The exit
    ``unsent_exit`` (decided, saved, never sent: recovery closed it) is sent now; with none,
    a position nothing guards (its stop's intent saved and never sent) is protected as that
    close would protect it, at start rather than at the next close."""

    symbol: Final[str]
    ts_ms: Final[int]
    bar: Final[int]
    unsent_exit: Final[ClientOrderId | None]

    def __init__(
        self,
        symbol: str,
        ts_ms: int,
        bar: int,
        unsent_exit: ClientOrderId | None = None,
    ) -> None:
        self.symbol = symbol
        self.ts_ms = ts_ms
        self.bar = bar
        self.unsent_exit = unsent_exit

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Restarted, field_values(self)


@dataclass(slots=True, unsafe_hash=True, init=False)
class TimerFired:
    """A wall-clock tick for time-based housekeeping."""

    ts_ms: Final[int]

    def __init__(
        self,
        ts_ms: int,
    ) -> None:
        self.ts_ms = ts_ms

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return TimerFired, field_values(self)


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
