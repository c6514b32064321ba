"""PositionManager: the portfolio, each position's protective orders, and closed trades.

It books every fill into the ``Portfolio`` (whose ledger identity is tested after every
event), remembers which resting orders protect each position, and turns the fill that
brings a position back to flat into a ``Trade`` labelled with why it closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradebot.domain.market import Market
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Portfolio, Position, Trade
from tradebot.domain.records import field_values
from tradebot.execution.router import OrderRole, role_of

ZERO: Final = Decimal(0)


@dataclass(slots=True, init=False)
class Protection:
    """The resting orders guarding one position.

    Its ``__init__`` is written out: a dataclass's generated one stays interpreted Python
    in the compiled build (``tradebot.domain.records``), and one is made per entry.
    """

    stop_order_id: ClientOrderId | None
    stop_price: Decimal | None
    take_profit_order_id: ClientOrderId | None
    take_profit_price: Decimal | None
    entry_atr: float | None
    checked: bool  # protection was computed for this position (even if none came)

    def __init__(
        self,
        stop_order_id: ClientOrderId | None = None,
        stop_price: Decimal | None = None,
        take_profit_order_id: ClientOrderId | None = None,
        take_profit_price: Decimal | None = None,
        entry_atr: float | None = None,
        checked: bool = False,
    ) -> None:
        self.stop_order_id = stop_order_id
        self.stop_price = stop_price
        self.take_profit_order_id = take_profit_order_id
        self.take_profit_price = take_profit_price
        self.entry_atr = entry_atr
        self.checked = checked

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Protection, field_values(self)


class PositionManager:
    """Positions of one account, in one quote currency."""

    def __init__(self, portfolio: Portfolio, markets: dict[str, Market]) -> None:
        self.portfolio = portfolio
        self.markets = markets
        self.protection: dict[str, Protection] = {}
        self.trades: list[Trade] = []
        self.changes = 0
        """Counts the bookings that changed a holding (fills, reconciliations): a reader
        that noted every holding at one count need not read them again until it moves."""
        self.last_booked = ""
        """The market of the latest booking: a reader one booking behind reads it alone."""
        self._dust = {s: max(m.min_qty, m.qty_step) for s, m in markets.items()}

    def position(self, symbol: str) -> Position | None:
        """The position in ``symbol`` (None if never opened)."""
        return self.portfolio.position(symbol)

    def dust_qty(self, symbol: str) -> Decimal:
        """Below this a holding cannot be sold, so it counts as flat."""
        return self._dust[symbol]

    def sellable_qty(self, symbol: str) -> Decimal:
        """What can be sold now, rounded down to the lot step."""
        pos = self.portfolio.position(symbol)
        if pos is None:
            return ZERO
        return self.markets[symbol].round_qty(pos.qty)

    def is_flat(self, symbol: str) -> bool:
        """True when nothing sellable is held."""
        pos = self.portfolio.positions.get(symbol)
        return pos is None or pos.qty <= self._dust[symbol]

    def on_fill(self, fill: Fill) -> Trade | None:
        """Book a fill; return the trade it closed, labelled with the exit reason."""
        market = self.markets[fill.symbol]
        self._booking(fill.symbol)
        reason = ""
        if fill.side is OrderSide.SELL:  # only a sell closes a trade: label it (once)
            role = role_of(fill.client_order_id)
            reason = role.exit_reason if role else "external"
        trade = self.portfolio.apply_fill(
            fill, market.base, market.quote, self._dust[fill.symbol], reason
        )
        if trade is None:
            return None
        self.trades.append(trade)
        self.protection.pop(fill.symbol, None)
        return trade

    def reconcile(self, symbol: str, qty: Decimal, price: Decimal | None) -> Decimal:
        """The venue holds ``qty``: correct the books with a ledger adjustment (returned)."""
        market = self.markets[symbol]
        self._booking(symbol)
        return self.portfolio.reconcile_position(symbol, qty, price, market.base, market.quote)

    def _booking(self, symbol: str) -> None:
        """Count a booking of ``symbol`` (``changes`` and ``last_booked`` move together)."""
        self.changes += 1
        self.last_booked = symbol

    def protect(self, symbol: str, protection: Protection) -> None:
        """Remember the orders now guarding ``symbol``."""
        self.protection[symbol] = protection

    def protection_of(self, symbol: str) -> Protection | None:
        """The orders guarding ``symbol``, if any."""
        return self.protection.get(symbol)

    def is_protective(self, client_order_id: ClientOrderId) -> bool:
        """True for a stop-loss or take-profit order."""
        return role_of(client_order_id) in (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT)

    def open_positions(self) -> int:
        """Number of symbols with a sellable holding."""
        dust = self._dust  # inlined is_flat: every entry and exit of a basket counts them
        return sum(1 for s, p in self.portfolio.positions.items() if p.qty > dust[s])
