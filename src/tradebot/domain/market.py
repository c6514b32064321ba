"""Market data values and the market's trading rules (precision and limits)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Final

from tradebot.domain.errors import InvalidOrder

_TIMEFRAME_UNIT_MS: Final = {
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}


def timeframe_to_ms(timeframe: str) -> int:
    """Return the length of a CCXT timeframe such as ``"1m"`` or ``"4h"`` in milliseconds.

    Raises:
        ValueError: the timeframe is not ``<positive int><s|m|h|d|w>``.
    """
    unit = timeframe[-1:]
    count = timeframe[:-1]
    if unit not in _TIMEFRAME_UNIT_MS or not count.isdigit() or int(count) <= 0:
        raise ValueError(
            f"timeframe {timeframe!r} is not valid: use a count and a unit, e.g. 1m, 15m, 1h, 1d"
        )
    return int(count) * _TIMEFRAME_UNIT_MS[unit]


_RECENT: Final[dict[float, Decimal]] = {}
_RECENT_MAX: Final = 64
_SCALE: Final = 100_000_000  # a price of up to eight decimals is found without the repr
_TENTHS: Final = tuple(Decimal(1).scaleb(-k) for k in range(9))  # 1, 0.1, ... 1E-8


def decimal_from_float(value: float) -> Decimal:
    """The shortest exact decimal of a float price (``Decimal(0.1)`` drags binary noise):
    ``Decimal(repr(value))``, digit for digit and exponent for exponent.

    The last few answers are kept: a backtest asks for the same price several times in a row
    (the close the engine decides at is the mark the venue judges the order by, and often the
    next bar's open), and a lookup costs a fifth of making one.
    """
    found = _RECENT.get(value)
    if found is None:
        if len(_RECENT) >= _RECENT_MAX:
            _RECENT.clear()
        found = _RECENT[value] = shortest_decimal(float(value))
    return found


def shortest_decimal(value: float) -> Decimal:
    """``decimal_from_float`` made afresh, for a price not asked for again soon (another
    market's close as a valuation's mark: looking it up among the kept answers and keeping
    it cost about as much as making it).

    ``Decimal(repr(value))``, made without the repr for a price of at most eight decimals.

    The float's repr is its shortest decimal, and most of the cost of making one. A decimal
    ``n × 10⁻⁸`` of at most 15 significant digits that rounds to ``value`` is that shortest
    decimal (distinct decimals of 15 digits round to distinct floats, so no shorter one
    rounds to it too): its digits without trailing zeros, written as repr writes them (at
    least one decimal from 10⁻⁴ up). Anything else (more decimals, 15 digits or more, zero,
    NaN) is made from the repr.
    """
    scaled = value * _SCALE
    if -1e15 < scaled < 1e15:
        n = int(scaled + 0.5) if scaled >= 0 else -int(0.5 - scaled)  # a tie: checked next
        if n and n / _SCALE == value:  # n / 10⁸, correctly rounded: n × 10⁻⁸ rounds to value
            # Up to seven trailing zeros go, four, two and one at a time: repr keeps one
            # decimal ("65000.0"), and below 10⁻⁴ ("1e-05") n has at most three.
            decimals = 8
            if n % 10_000 == 0:
                n //= 10_000
                decimals = 4
            if n % 100 == 0:
                n //= 100
                decimals -= 2
            if n % 10 == 0:
                n //= 10
                decimals -= 1
            # exact (n has at most 15 digits); an int operand is made a Decimal exactly, and
            # cheaper than by a call of Decimal (compiled, about 1,000 instructions)
            return _TENTHS[decimals] * n
    return Decimal(repr(value))


class LastFloat:
    """``float(amount)`` (``of``), the last answer kept for the same Decimal object.

    An account's cash and holdings change only with a fill, so a backtest asks for the float
    of the same Decimal at visit after visit (the equity tape, each decision's record), and
    ``float`` of a Decimal goes through its text. A Decimal is immutable: the same object is
    the same amount.
    """

    __slots__ = ("_amount", "_value")

    def __init__(self) -> None:
        self._amount: Decimal | None = None
        self._value = 0.0

    def of(self, amount: Decimal) -> float:
        """``float(amount)``."""
        if amount is not self._amount:
            self._amount, self._value = amount, float(amount)
        return self._value


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; ``ts_ms`` is the bar's open time (UTC epoch ms, as in CCXT)."""

    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Ticker:
    """Best bid/ask and last price of a symbol at ``ts_ms``."""

    symbol: str
    ts_ms: int
    bid: float
    ask: float
    last: float


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an order book."""

    price: float
    qty: float


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A snapshot of the book; bids best-first (descending), asks best-first (ascending)."""

    symbol: str
    ts_ms: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    nonce: int | None = None


@dataclass(frozen=True, slots=True)
class Market:
    """A symbol's trading rules, as the exchange states them.

    Amounts and prices sent to an exchange are rounded here first and checked against the
    limits, so an order the venue would refuse is refused before it is sent.
    """

    symbol: str
    base: str
    quote: str
    price_step: Decimal
    qty_step: Decimal
    min_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)

    def round_qty(self, qty: Decimal) -> Decimal:
        """Truncate an amount down to the lot step (never round up: that spends money)."""
        return (qty / self.qty_step).to_integral_value(ROUND_DOWN) * self.qty_step

    def round_price(self, price: Decimal) -> Decimal:
        """Round a price to the nearest tick."""
        return (price / self.price_step).to_integral_value(ROUND_HALF_EVEN) * self.price_step

    def limit_violation(self, qty: Decimal, price: Decimal) -> str | None:
        """Say why ``qty`` at ``price`` breaks the market's limits, or None if it does not."""
        if qty <= 0:
            return f"{self.symbol}: amount {qty} is not positive after rounding to {self.qty_step}"
        if qty < self.min_qty:
            return f"{self.symbol}: amount {qty} is below the minimum amount {self.min_qty}"
        notional = qty * price
        if notional < self.min_notional:
            return (
                f"{self.symbol}: notional {notional:.8f} {self.quote} is below the minimum "
                f"notional {self.min_notional} {self.quote}"
            )
        return None

    def check_order(self, qty: Decimal, price: Decimal) -> None:
        """Raise if the rounded order breaks a limit.

        Raises:
            InvalidOrder: the amount or notional is below the market's minimum.
        """
        reason = self.limit_violation(qty, price)
        if reason is not None:
            raise InvalidOrder(reason)
