"""StopLossManager: where the protective stop and the take-profit go, and trailing them.

Methods: ``fixed_pct`` (entry × (1 − pct)), ``atr`` (entry − multiplier × ATR at the signal
bar), ``trailing_pct`` / ``trailing_atr`` (start like the fixed ones, then follow the highest
close, never moving down), ``none``. Take-profit: ``pct`` above entry, or ``r_multiple`` × the
initial risk (entry − stop).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from tradebot.domain.market import decimal_from_float
from tradebot.domain.records import field_values


class StopMethod(StrEnum):
    """How the stop is placed."""

    NONE = "none"
    FIXED_PCT = "fixed_pct"
    ATR = "atr"
    TRAILING_PCT = "trailing_pct"
    TRAILING_ATR = "trailing_atr"


class TakeProfitMethod(StrEnum):
    """How the take-profit is placed."""

    NONE = "none"
    PCT = "pct"
    R_MULTIPLE = "r_multiple"


@dataclass(frozen=True, slots=True)
class StopParams:
    """Stop and target parameters; fractions as 0..1."""

    method: StopMethod = StopMethod.ATR
    pct: Decimal = Decimal("0.02")
    atr_multiplier: Decimal = Decimal(2)
    take_profit: TakeProfitMethod = TakeProfitMethod.NONE
    take_profit_pct: Decimal = Decimal("0.04")
    take_profit_r: Decimal = Decimal(2)


@dataclass(slots=True, unsafe_hash=True, init=False)
class StopLoss:
    """A stop price and how it was derived."""

    price: Final[Decimal]
    distance: Final[Decimal]
    method: Final[StopMethod]

    def __init__(
        self,
        price: Decimal,
        distance: Decimal,
        method: StopMethod,
    ) -> None:
        self.price = price
        self.distance = distance
        self.method = method

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return StopLoss, field_values(self)


_TRAILING: Final = (StopMethod.TRAILING_PCT, StopMethod.TRAILING_ATR)


class StopLossManager:
    """Compute initial stops and targets and move trailing stops."""

    def __init__(self, params: StopParams) -> None:
        self.params: Final = params
        self.is_trailing: Final = params.method in (
            StopMethod.TRAILING_PCT,
            StopMethod.TRAILING_ATR,
        )
        """True when the stop follows price after entry (asked at every bar)."""

    @property
    def needs_atr(self) -> bool:
        """True when the stop's distance is a multiple of the ATR."""
        return self.params.method in (StopMethod.ATR, StopMethod.TRAILING_ATR)

    def distance(self, price: Decimal, atr: float | None) -> Decimal | None:
        """Stop distance below ``price``; None when no stop is used or ATR is unknown."""
        method = self.params.method
        if method in (StopMethod.FIXED_PCT, StopMethod.TRAILING_PCT):
            return price * self.params.pct
        if method in (StopMethod.ATR, StopMethod.TRAILING_ATR):
            if atr is None or not atr > 0:
                return None
            return self.params.atr_multiplier * decimal_from_float(atr)  # cached: asked twice
        return None

    def calculate_stop(self, entry_price: Decimal, atr: float | None) -> StopLoss | None:
        """Initial stop below ``entry_price`` (None when the method is ``none``)."""
        dist = self.distance(entry_price, atr)
        if dist is None or dist >= entry_price:
            return None
        return StopLoss(entry_price - dist, dist, self.params.method)

    def take_profit(self, entry_price: Decimal, stop: StopLoss | None) -> Decimal | None:
        """Target price above entry, or None."""
        p = self.params
        if p.take_profit is TakeProfitMethod.PCT:
            return entry_price * (1 + p.take_profit_pct)
        if p.take_profit is TakeProfitMethod.R_MULTIPLE and stop is not None:
            return entry_price + p.take_profit_r * stop.distance
        return None

    def update_trailing_stop(
        self, current_stop: Decimal, close: Decimal, atr: float | None
    ) -> Decimal | None:
        """Return a higher stop when price moved up enough, else None (stops never fall)."""
        if not self.is_trailing:
            return None
        dist = self.distance(close, atr)
        if dist is None:
            return None
        candidate = close - dist
        return candidate if candidate > current_stop else None
