"""How a bar fills resting orders: the one rule the backtest venue and the sandbox share.

A candle says where the price went, not in which order, so a venue that replays candles must
assume a path. Both of tradebot's venues (``exchange/simulated.py`` for backtests,
``sandbox/`` for paper trading and the tests) walk the path below and ask ``BarWalk`` what
each resting order does on it, so one bar fills the same way on both.

**The path.** The price *jumps* to the bar's open (nothing trades between the previous close
and the open), then moves continuously open → low → high → close. Going to the low first
means that when a long position's stop (below) and its take-profit (above) are both inside
one bar, the stop fills: the conservative reading of an unknown path, the one backtrader and
vectorbt take for stops. (The sandbox's flash crash adds a second jump, to the crash price,
right after the open.)

**What an order does where the path reaches it** (buy limits are reached at or below their
price, sell limits at or above; stop-losses trigger as Binance's do: a sell at or below its
stop price, a buy at or above; take-profit stops the other way round):

* a market order fills at the open, as taker;
* on a jump (a gap): a limit the jump lands at or through fills at the landing price (the
  open), as taker, except a ``LIMIT_MAKER``, which never takes: it fills at its own price,
  as maker; a stop triggers at the landing price;
* on a continuous move: a limit fills at its own price as maker (an exact touch counts); a
  stop triggers at its stop price;
* a triggered stop-market fills where it triggered, as taker; a triggered stop-limit does the
  same if its limit allows that price, and otherwise rests as a limit at its limit price (a
  gap through a stop-limit's limit does not fill it at the stop price, as on Binance);
* orders act in the order the path reaches them; orders reached at the same point act stops
  first (the conservative reading again), then in the order they were placed.

Maker or taker follows from the order's role in the fill, never from the fee rates. A taker
fill's price is the market price at that point; a venue applies its own execution on top
(the backtest its slippage, the sandbox its synthetic book). When one leg of an OCO list acts
(fills or triggers), the venue expires the other, as Binance does.

**Time.** Every fill is stamped with the open time of the bar it happens in (the candle's
``ts_ms``), in both venues; so is the expiry of an OCO partner.

The values here are records (``tradebot.domain.records``): a backtest makes one per resting
order and per action, and a record is cheap to make, as the engine's events are.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from tradebot.domain.orders import OrderSide, OrderType
from tradebot.domain.records import field_values

_STOP_TYPES: Final = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)
_LIMITED_STOPS: Final = frozenset({OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
_FALLING_STOPS: Final = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT})
_ZERO: Final = Decimal(0)


@dataclass(slots=True, unsafe_hash=True, init=False)
class Leg:
    """One stretch of a bar's path: the price goes to ``price``, in a jump or continuously."""

    price: Final[Decimal]
    jump: Final[bool]

    def __init__(
        self,
        price: Decimal,
        jump: bool = False,
    ) -> None:
        self.price = price
        self.jump = jump

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Leg, field_values(self)


def bar_path(
    open_: Decimal, high: Decimal, low: Decimal, close: Decimal, crash: Decimal | None = None
) -> tuple[Leg, ...]:
    """Return the legs of a bar: jump to the open, (jump to ``crash``,) low, high, close."""
    if crash is None:
        return (Leg(open_, jump=True), Leg(low), Leg(high), Leg(close))
    return (Leg(open_, jump=True), Leg(crash, jump=True), Leg(low), Leg(high), Leg(close))


@dataclass(slots=True, unsafe_hash=True, init=False)
class Resting:
    """What the rule needs to know of a working order; ``key`` is the venue's id for it.

    ``triggered`` marks a stop-limit whose stop has triggered: it now rests as a limit.
    """

    key: Final[str | int]
    side: Final[OrderSide]
    type: Final[OrderType]
    price: Final[Decimal | None]
    stop_price: Final[Decimal | None]
    triggered: Final[bool]

    def __init__(
        self,
        key: str | int,
        side: OrderSide,
        type: OrderType,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        triggered: bool = False,
    ) -> None:
        self.key = key
        self.side = side
        self.type = type
        self.price = price
        self.stop_price = stop_price
        self.triggered = triggered

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Resting, field_values(self)

    @property
    def waits_for_trigger(self) -> bool:
        """True for a stop order whose stop price has not traded yet."""
        return self.type in _STOP_TYPES and not self.triggered

    def reach(self) -> tuple[bool, Decimal]:
        """``(falls, level)``: the order acts once the price is at or below ``level`` when
        ``falls``, at or above it otherwise. (A market order acts anywhere: level 0, rising.)
        """
        kind = self.type
        if kind in _STOP_TYPES and not self.triggered:
            falls = (kind in _FALLING_STOPS) == (self.side is OrderSide.SELL)
            return falls, self.stop_price or _ZERO
        if kind is OrderType.MARKET:
            return False, _ZERO
        return self.side is OrderSide.BUY, self.price or _ZERO

    def is_reached(self, price: Decimal) -> bool:
        """True when the order acts at ``price``."""
        falls, level = self.reach()
        return price <= level if falls else price >= level


class Act(StrEnum):
    """What an order does where the path reaches it."""

    FILL = "fill"
    TRIGGER = "trigger"
    """A stop-limit's stop traded but its limit does not allow the price: it rests as a limit."""


@dataclass(slots=True, unsafe_hash=True, init=False)
class BarAction:
    """One order acting on the path.

    ``price`` is the fill price of a maker, and for a taker or a trigger the market price at
    that point (the venue executes a taker there, within the order's limit if it has one).
    """

    key: Final[str | int]
    act: Final[Act]
    price: Final[Decimal]
    is_maker: Final[bool]
    ts_ms: Final[int]

    def __init__(
        self,
        key: str | int,
        act: Act,
        price: Decimal,
        is_maker: bool,
        ts_ms: int,
    ) -> None:
        self.key = key
        self.act = act
        self.price = price
        self.is_maker = is_maker
        self.ts_ms = ts_ms

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return BarAction, field_values(self)


def market_fill(key: str | int, ts_ms: int, open_: Decimal) -> BarAction:
    """A market order sent before the bar opened: it fills at the open, as taker."""
    return BarAction(key, Act.FILL, open_, False, ts_ms)


class BarWalk:
    """A walk along a path, handing out the orders' actions in the order they happen.

    The venue asks ``next`` with its resting orders as they are *now*, applies the action
    (a fill, a trigger, an OCO partner expired), and asks again until it gets None.
    """

    def __init__(self, ts_ms: int, legs: Sequence[Leg], start: Decimal | None = None) -> None:
        """Walk ``legs`` of the bar opening at ``ts_ms``, from ``start`` (None: before the open)."""
        self.ts_ms = ts_ms
        self.price = start
        self._legs = legs
        self._leg = 0
        self._acted: set[str | int] = set()  # keys that acted where the price is now

    def next(self, orders: Collection[Resting]) -> BarAction | None:
        """The next action on the path, or None once the path is walked."""
        legs = self._legs
        while self._leg < len(legs):
            if not orders:  # nothing left to act: skip to the end of the path
                self._leg = len(legs)
                self._move(legs[-1].price)
                break
            leg = legs[self._leg]
            hit = self._first_hit(orders, leg)
            if hit is not None:
                order, level = hit
                self._move(level)
                self._acted.add(order.key)
                return self._action(order, level, jump=leg.jump)
            self._move(leg.price)
            self._leg += 1
        return None

    def _move(self, price: Decimal) -> None:
        if price != self.price:
            self._acted.clear()
            self.price = price

    def _first_hit(self, orders: Collection[Resting], leg: Leg) -> tuple[Resting, Decimal] | None:
        end = leg.price
        start = end if leg.jump or self.price is None else self.price
        best: tuple[Decimal, bool, int] | None = None
        found: tuple[Resting, Decimal] | None = None
        for rank, order in enumerate(orders):
            falls, level = order.reach()
            if start <= level if falls else start >= level:  # acts where the leg starts
                if start == self.price and order.key in self._acted:
                    continue
                level = start
            elif leg.jump or not (end <= level if falls else end >= level):
                continue
            # nearest first; at one point stops first, then in placement order
            key = (abs(level - start), not order.waits_for_trigger, rank)
            if best is None or key < best:
                best, found = key, (order, level)
        return found

    def _action(self, order: Resting, level: Decimal, jump: bool) -> BarAction:
        if order.waits_for_trigger:
            limit = order.price
            if order.type in _LIMITED_STOPS and limit is not None:
                allowed = level >= limit if order.side is OrderSide.SELL else level <= limit
                if not allowed:
                    return BarAction(order.key, Act.TRIGGER, level, False, self.ts_ms)
            return BarAction(order.key, Act.FILL, level, False, self.ts_ms)
        if order.type is OrderType.MARKET:
            return market_fill(order.key, self.ts_ms, level)
        if jump and order.type is not OrderType.LIMIT_MAKER:
            return BarAction(order.key, Act.FILL, level, False, self.ts_ms)
        return BarAction(order.key, Act.FILL, order.price or level, True, self.ts_ms)
