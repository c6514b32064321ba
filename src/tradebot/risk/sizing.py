"""PositionSizer: how much to buy, always capped by the maximum position size.

Methods (design II.4.A):

- ``fixed_fractional``: risk ``risk_per_trade`` of equity between entry and stop:
  ``qty = equity × risk_per_trade / (entry − stop)``.
- ``kelly``: the Kelly fraction ``W − (1 − W) / R`` from the strategy's own closed trades
  (win rate W, average win / average loss R), capped at ``kelly_fraction_cap``; until
  ``kelly_min_trades`` trades exist it falls back to ``risk_per_trade`` of equity.
- ``volatility_target``: size so one ATR move is ``volatility_target`` of equity.
- ``fixed_notional``: always ``max_position_size`` of quote.

Every method is capped by ``max_position_size`` and by the free cash less ``cash_buffer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from tradebot.domain.estimate import UNIT, Amount, Estimate, exactly
from tradebot.domain.portfolio import Trade
from tradebot.domain.records import field_values

ZERO: Final = Decimal(0)


class SizingMethod(StrEnum):
    """The sizing rule."""

    FIXED_FRACTIONAL = "fixed_fractional"
    KELLY = "kelly"
    VOLATILITY_TARGET = "volatility_target"
    FIXED_NOTIONAL = "fixed_notional"


@dataclass(frozen=True, slots=True)
class SizingParams:
    """Parameters of every sizing method; amounts in quote currency, fractions as 0..1."""

    method: SizingMethod = SizingMethod.FIXED_FRACTIONAL
    max_position_size: Decimal = Decimal(1000)
    risk_per_trade: Decimal = Decimal("0.02")
    kelly_fraction_cap: Decimal = Decimal("0.25")
    kelly_min_trades: int = 20
    volatility_target: Decimal = Decimal("0.02")
    cash_buffer: Decimal = Decimal("0.01")
    """Fraction of the free cash never spent: an entry is sized at the signal's close and
    fills at the next open, which may be higher (risk.cash_buffer_pct)."""


@dataclass(slots=True, unsafe_hash=True, init=False)
class SizingInput:
    """What the sizer needs to know about one proposed entry (``equity``: a basket's may be an
    estimate, made exact only by a method that scales with it)."""

    equity: Final[Amount]
    free_cash: Final[Decimal]
    price: Final[Decimal]
    stop_price: Final[Decimal | None]
    atr: Final[float | None]
    fee_rate: Final[Decimal]

    def __init__(
        self,
        equity: Amount,
        free_cash: Decimal,
        price: Decimal,
        stop_price: Decimal | None,
        atr: float | None,
        fee_rate: Decimal,
    ) -> None:
        self.equity = equity
        self.free_cash = free_cash
        self.price = price
        self.stop_price = stop_price
        self.atr = atr
        self.fee_rate = fee_rate

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # an estimate lives for its decision: a copy keeps its Decimal
        return SizingInput, (exactly(self.equity), *field_values(self)[1:])


class PositionSizer:
    """Turn an entry signal into a base amount (unrounded; the market rounds it)."""

    def __init__(self, params: SizingParams) -> None:
        self.params: Final = params
        self._risk_float = float(params.risk_per_trade)

    def calculate_size(self, inp: SizingInput, history: Sequence[Trade] = ()) -> Decimal:
        """Return the base amount to buy; zero when nothing sensible can be bought.

        It never spends more than the free cash less ``cash_buffer`` and the fee: a buy of
        all the cash at the signal's close would be refused when the next open is higher.
        """
        equity = inp.equity
        if inp.price <= 0 or (equity.sign() <= 0 if isinstance(equity, Estimate) else equity <= 0):
            return ZERO
        spendable = inp.free_cash * (1 - self.params.cash_buffer)
        cap = min(self.params.max_position_size, spendable / (1 + inp.fee_rate))
        if isinstance(equity, Estimate) and self._surely_over(inp, equity, cap):
            return max(ZERO, cap) / inp.price  # the Decimal equity not needed
        notional = self._notional(inp, history)
        notional = max(ZERO, min(notional, cap))
        return notional / inp.price

    def _surely_over(self, inp: SizingInput, equity: Estimate, cap: Decimal) -> bool:
        """True when the fixed fraction of an estimated equity is surely more than ``cap``
        (the usual case: the maximum position binds), so the size is the cap's, whatever the
        equity's last digits: its Decimal is not made. Each float below (a Decimal's, a
        product, a quotient) errs by one rounding of ``UNIT``, the stop distance by its
        operands' roundings over itself; twice the sum is taken."""
        if self.params.method is not SizingMethod.FIXED_FRACTIONAL:
            return False
        price = float(inp.price)
        notional = (equity.approx - equity.error) * self._risk_float
        error = 6 * UNIT
        stop = inp.stop_price
        if stop is not None and stop < inp.price:
            stop_float = float(stop)
            distance = price - stop_float
            if distance <= 0:
                return False
            notional = notional / distance * price
            error += 3 * UNIT + UNIT * (abs(price) + abs(stop_float)) / distance
        cap_float = float(cap)
        return notional * (1 - 2 * error) > cap_float + 2 * UNIT * abs(cap_float)

    def _notional(self, inp: SizingInput, history: Sequence[Trade]) -> Decimal:
        p = self.params
        method = p.method
        if method is SizingMethod.FIXED_NOTIONAL:
            return p.max_position_size
        equity = exactly(inp.equity)
        if method is SizingMethod.KELLY:
            return equity * kelly_fraction(
                history, p.kelly_fraction_cap, p.kelly_min_trades, fallback=p.risk_per_trade
            )
        if method is SizingMethod.VOLATILITY_TARGET:
            if not inp.atr or inp.atr <= 0:
                return ZERO
            vol = Decimal(repr(inp.atr)) / inp.price
            return equity * p.volatility_target / vol
        # fixed fractional: risk / stop distance, or the fraction of equity without a stop
        if inp.stop_price is None or inp.stop_price >= inp.price:
            return equity * p.risk_per_trade
        risk = equity * p.risk_per_trade
        return risk / (inp.price - inp.stop_price) * inp.price


def kelly_fraction(
    history: Sequence[Trade], cap: Decimal, min_trades: int, fallback: Decimal
) -> Decimal:
    """Kelly fraction ``W − (1 − W)/R`` of the closed trades, clamped to ``[0, cap]``."""
    if len(history) < min_trades:
        return min(fallback, cap)
    wins = [t.pnl for t in history if t.pnl > 0]
    losses = [-t.pnl for t in history if t.pnl < 0]
    if not wins:
        return ZERO
    if not losses:
        return cap
    win_rate = Decimal(len(wins)) / Decimal(len(history))
    ratio = (sum(wins, ZERO) / len(wins)) / (sum(losses, ZERO) / len(losses))
    fraction = win_rate - (1 - win_rate) / ratio
    return max(ZERO, min(fraction, cap))
