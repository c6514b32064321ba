"""Positions, closed trades and the portfolio ledger.

The ledger identity holds after every fill (a property test checks it)::

    cash + Σ qty × mark  =  starting cash + adjustments + realised PnL + unrealised PnL − fees

``adjustments`` is what reconciliation booked when the venue held a different amount than
the books (the venue wins): the units found or lost, valued at their cost.

Fees charged in the base asset (as Binance does on spot buys) reduce the amount received;
they are valued at the fill price so the identity still holds in quote terms.

One portfolio may span several venues (exchange accounts): ``cash`` is then the sum of each
venue's own quote balance (``venue_cash``), and a fill moves the cash of the venue its symbol
trades on. Money does not move between venues, so an entry is sized on its venue's cash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from tradebot.domain.errors import StateError
from tradebot.domain.orders import Fill, OrderSide
from tradebot.domain.records import field_values

ZERO: Final = Decimal(0)


@dataclass(slots=True, unsafe_hash=True, init=False)
class Trade:
    """A closed round trip: from flat to a position and back to flat."""

    symbol: Final[str]
    entry_ts_ms: Final[int]
    exit_ts_ms: Final[int]
    qty: Final[Decimal]
    entry_price: Final[Decimal]
    exit_price: Final[Decimal]
    fees: Final[Decimal]
    pnl: Final[Decimal]  # net of fees, in quote
    exit_reason: Final[str]

    def __init__(
        self,
        symbol: str,
        entry_ts_ms: int,
        exit_ts_ms: int,
        qty: Decimal,
        entry_price: Decimal,
        exit_price: Decimal,
        fees: Decimal,
        pnl: Decimal,
        exit_reason: str = "",
    ) -> None:
        self.symbol = symbol
        self.entry_ts_ms = entry_ts_ms
        self.exit_ts_ms = exit_ts_ms
        self.qty = qty
        self.entry_price = entry_price
        self.exit_price = exit_price
        self.fees = fees
        self.pnl = pnl
        self.exit_reason = exit_reason

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Trade, field_values(self)

    @property
    def return_pct(self) -> float:
        """Net return on the entry notional, in percent."""
        cost = self.qty * self.entry_price
        return float(self.pnl / cost * 100) if cost else 0.0

    @property
    def duration_ms(self) -> int:
        """Time held."""
        return self.exit_ts_ms - self.entry_ts_ms


@dataclass(slots=True)
class Position:
    """A spot holding of one symbol at average cost. ``cost`` excludes fees."""

    symbol: str
    base: str
    quote: str
    qty: Decimal = ZERO
    cost: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    opened_ts_ms: int = 0
    # Round-trip bookkeeping, reset when the position goes flat.
    trip_bought_qty: Decimal = ZERO
    trip_bought_notional: Decimal = ZERO
    trip_sold_qty: Decimal = ZERO
    trip_sold_notional: Decimal = ZERO
    trip_fees: Decimal = ZERO
    trip_pnl: Decimal = ZERO

    @property
    def is_open(self) -> bool:
        """True while anything is held."""
        return self.qty > 0

    @property
    def avg_price(self) -> Decimal:
        """Average cost per unit held (zero when flat)."""
        return self.cost / self.qty if self.qty else ZERO

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        """Mark-to-market gain of what is held."""
        return self.qty * mark - self.cost


@dataclass(slots=True)
class Portfolio:
    """Cash in the quote currency and spot positions; applies fills and keeps the identity."""

    starting_cash: Decimal
    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    fees: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    adjustments: Decimal = ZERO
    venue_of: dict[str, str] = field(default_factory=dict)
    """Each symbol's venue, when the portfolio spans several (else empty: one account)."""
    venue_cash: dict[str, Decimal] = field(default_factory=dict)
    """Each venue's quote balance; they add up to ``cash``."""
    venue_starting_cash: dict[str, Decimal] = field(default_factory=dict)
    """Each venue's starting cash; they add up to ``starting_cash``."""

    @classmethod
    def with_cash(cls, cash: Decimal) -> Portfolio:
        """Start with ``cash`` of the quote currency and nothing else."""
        return cls(starting_cash=cash, cash=cash)

    @classmethod
    def with_venues(cls, cash: dict[str, Decimal], venue_of: dict[str, str]) -> Portfolio:
        """Start with each venue's ``cash`` (by venue id), ``venue_of`` naming each symbol's
        venue; one venue is ``with_cash``."""
        if len(cash) == 1:
            return cls.with_cash(next(iter(cash.values())))
        total = sum(cash.values(), ZERO)
        return cls(
            total, total, venue_of=dict(venue_of), venue_cash=dict(cash),
            venue_starting_cash=dict(cash),
        )  # fmt: skip

    def cash_for(self, symbol: str) -> Decimal:
        """The cash an order in ``symbol`` can spend: its venue's (the account's when one)."""
        venue = self.venue_of.get(symbol)
        return self.cash if venue is None else self.venue_cash[venue]

    def set_venue_cash(self, venue: str | None, cash: Decimal) -> None:
        """Take ``cash`` as what ``venue`` (None: the one account) holds: the difference is
        money moved in or out, so it changes the starting cash, not the PnL."""
        delta = cash - (self.cash if venue is None else self.venue_cash[venue])
        if venue is not None:
            self.venue_cash[venue] += delta
            self.venue_starting_cash[venue] += delta
        self.cash += delta
        self.starting_cash += delta

    def position(self, symbol: str) -> Position | None:
        """The position in ``symbol`` if one was ever opened."""
        return self.positions.get(symbol)

    def apply_fill(
        self,
        fill: Fill,
        base: str,
        quote: str,
        dust_qty: Decimal = ZERO,
        exit_reason: str = "",
    ) -> Trade | None:
        """Book a fill; return the closed trade when it brings the position back to flat.

        A remainder at or below ``dust_qty`` (less than the venue lets one sell, left by
        fees paid in the base asset) counts as flat: the round trip closes, the dust stays.

        Raises:
            StateError: a sell for more than is held, or a fee in a third asset.
        """
        pos = self.positions.get(fill.symbol)
        if pos is None:
            pos = self.positions[fill.symbol] = Position(fill.symbol, base, quote)
        fee_quote = self._fee_in_quote(fill, base, quote)
        if fill.side is OrderSide.BUY:
            self._buy(pos, fill, fee_quote, base)
            return None
        return self._sell(pos, fill, fee_quote, base, dust_qty, exit_reason)

    def reconcile_position(
        self, symbol: str, qty: Decimal, price: Decimal | None, base: str, quote: str
    ) -> Decimal:
        """Set the amount held to what the venue holds; return the ledger adjustment.

        The units found (or lost) are valued at ``price``, else at the position's average
        cost, and booked both in the position's cost and in ``adjustments``, so the identity
        still holds: nothing is bought or sold, the books are corrected.
        """
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position(symbol, base, quote)
        unit = price if price is not None else pos.avg_price
        new_cost = pos.cost + (qty - pos.qty) * unit if qty else ZERO
        value = new_cost - pos.cost
        pos.qty, pos.cost = qty, new_cost
        self.adjustments += value
        return value

    def equity(self, marks: dict[str, Decimal]) -> Decimal:
        """Cash plus every position at its mark."""
        total = self.cash
        for symbol, position in self.positions.items():  # a loop: this runs at every entry
            if position.qty:
                total += position.qty * marks[symbol]
        return total

    def exposure(self, marks: dict[str, Decimal]) -> Decimal:
        """Quote value of everything held."""
        return sum((p.qty * marks[s] for s, p in self.positions.items() if p.qty), ZERO)

    def ledger_error(self, marks: dict[str, Decimal]) -> Decimal:
        """How far the identity is off; zero when the books add up."""
        unrealised = sum(
            (p.unrealised_pnl(marks[s]) for s, p in self.positions.items() if p.qty), ZERO
        )
        expected = (
            self.starting_cash + self.adjustments + self.realised_pnl + unrealised - self.fees
        )
        return self.equity(marks) - expected

    @staticmethod
    def _fee_in_quote(fill: Fill, base: str, quote: str) -> Decimal:
        if fill.fee == 0 or fill.fee_asset == quote:
            return fill.fee
        if fill.fee_asset == base:
            return fill.fee * fill.price
        raise StateError(f"fee in {fill.fee_asset} is not supported for {fill.symbol}")

    def _buy(self, pos: Position, fill: Fill, fee_quote: Decimal, base: str) -> None:
        received = fill.qty - (fill.fee if fill.fee_asset == base else ZERO)
        cash_fee = fee_quote if fill.fee_asset != base else ZERO
        self._move_cash(fill.symbol, -(fill.notional + cash_fee))
        if not pos.trip_bought_qty:
            pos.opened_ts_ms = fill.ts_ms
        pos.qty += received
        pos.cost += received * fill.price
        pos.trip_bought_qty += received
        pos.trip_bought_notional += received * fill.price
        self._charge(pos, fee_quote)

    def _sell(
        self,
        pos: Position,
        fill: Fill,
        fee_quote: Decimal,
        base: str,
        dust_qty: Decimal,
        exit_reason: str,
    ) -> Trade | None:
        if fill.qty > pos.qty:
            raise StateError(f"sell of {fill.qty} {fill.symbol} exceeds the {pos.qty} held")
        avg = pos.avg_price
        base_fee = fill.fee if fill.fee_asset == base else ZERO
        self._move_cash(
            fill.symbol, (fill.qty - base_fee) * fill.price - (fee_quote if not base_fee else ZERO)
        )
        pnl = fill.qty * (fill.price - avg)
        pos.cost -= fill.qty * avg
        pos.qty -= fill.qty
        pos.realised_pnl += pnl
        pos.trip_pnl += pnl
        pos.trip_sold_qty += fill.qty
        pos.trip_sold_notional += fill.notional
        self.realised_pnl += pnl
        self._charge(pos, fee_quote)
        if pos.qty > dust_qty:
            return None
        if not pos.qty:
            pos.cost = ZERO
        return self._close_trip(pos, fill, exit_reason)

    def _move_cash(self, symbol: str, amount: Decimal) -> None:
        self.cash += amount
        venue = self.venue_of.get(symbol)
        if venue is not None:
            self.venue_cash[venue] += amount

    def _charge(self, pos: Position, fee_quote: Decimal) -> None:
        pos.fees += fee_quote
        pos.trip_fees += fee_quote
        self.fees += fee_quote

    @staticmethod
    def _close_trip(pos: Position, fill: Fill, exit_reason: str) -> Trade:
        trade = Trade(  # positional (keywords made it twice as slow to make)
            pos.symbol,
            pos.opened_ts_ms,  # entry
            fill.ts_ms,  # exit
            pos.trip_sold_qty,
            pos.trip_bought_notional / pos.trip_bought_qty,  # entry price
            pos.trip_sold_notional / pos.trip_sold_qty,  # exit price
            pos.trip_fees,
            pos.trip_pnl - pos.trip_fees,  # pnl
            exit_reason,
        )
        pos.trip_bought_qty = pos.trip_bought_notional = ZERO
        pos.trip_sold_qty = pos.trip_sold_notional = ZERO
        pos.trip_fees = pos.trip_pnl = ZERO
        return trade
