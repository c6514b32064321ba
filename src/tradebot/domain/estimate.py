"""An amount of quote known as a float within an error, its Decimal made only when asked for.

A basket's entry is checked against the whole account: its equity and its exposure sum every
other holding's amount at that market's last close. As Decimals that is about 2,700
instructions a holding, compiled (the close's shortest decimal, the product, a sum into the
equity and one into the exposure): with eight markets held, most of what a basket's bar cost
over a single market's (docs/backtest.md, "A basket of markets"). Yet a check only compares
the sum with a limit, mostly far from it, its text shows it to the cent, and a fixed-notional
sizer reads no more than its sign. So the account sums the holdings in floats, with a bound on
their error, and makes the Decimal only when a comparison or a cent falls within that bound
(``Estimate.exact``): then it is the very Decimal the account made before, term for term.

An estimate lives for one decision: it is made from the account as it stands at that close,
and its Decimal is made from the same account, which the maker checks is unchanged. A record
keeps a float or a Decimal, never an estimate.

The bound (``sum_error``): each term (an amount's float, a mark's shortest decimal against
the float mark, their product) errs by at most three roundings of ``UNIT`` (2⁻⁵³) relative,
and a float sum of ``n`` terms adds at most ``n - 1`` more of the sum of their magnitudes, so
it is within ``(n + 3) × UNIT`` of that sum; ``2 × (n + 4) × UNIT`` is taken. A half cent
is about 10⁻⁹ of an account of five million, the bound of eight terms about 3 × 10⁻¹⁵ of it:
a check's text to the cent falls within the error a few times in a million (then the
Decimal is made).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Final, final

UNIT: Final = 2.0**-53
"""A float's rounding, relative: its unit roundoff."""


def sum_error(terms: int, magnitude: float) -> float:
    """A bound on the error of a float sum of ``terms`` terms, each the float product of
    floats of Decimals, whose magnitudes sum to ``magnitude``."""
    return (terms + 4) * 2 * UNIT * magnitude


@final
class Estimate:
    """An amount as a float (``approx``) within ``error`` of its Decimal, which ``make``
    makes when first asked for (``exact``)."""

    __slots__ = ("_exact", "_make", "approx", "error")

    def __init__(self, approx: float, error: float, make: Callable[[], Decimal]) -> None:
        self.approx = approx
        self.error = error
        self._make = make
        self._exact: Decimal | None = None

    def exact(self) -> Decimal:
        """The amount as a Decimal."""
        exact = self._exact
        if exact is None:
            exact = self._exact = self._make()
        return exact

    def sign(self) -> int:
        """-1, 0 or 1 as the amount is below, at or above zero."""
        if self.approx > self.error:
            return 1
        if self.approx < -self.error:
            return -1
        exact = self.exact()
        return (exact > 0) - (exact < 0)

    def __repr__(self) -> str:
        return f"Estimate({self.approx!r} ± {self.error!r})"


Amount = Decimal | Estimate
"""An amount of quote: a Decimal, or an estimate of one."""


def exactly(amount: Amount) -> Decimal:
    """``amount`` as a Decimal."""
    # compiled, ``isinstance`` of the native Estimate is a pointer comparison; of Decimal,
    # a call
    return amount.exact() if isinstance(amount, Estimate) else amount


def compared(approx: float, error: float, limit: float) -> int:
    """-1 or 1 when an amount within ``error`` of ``approx`` is surely below or above
    ``limit`` (a float within one rounding of its Decimal); 0 when the floats cannot tell."""
    bound = error + 2 * UNIT * (abs(approx) + abs(limit))
    if approx < limit - bound:
        return -1
    if approx > limit + bound:
        return 1
    return 0


def in_cents(approx: float, error: float) -> float | None:
    """``approx`` when it prints to the cent (``{:.2f}``) as the Decimal within ``error`` of
    it does: no half cent and no zero lie within the error; None otherwise."""
    if abs(approx) <= error:  # its sign could differ ("-0.00" against "0.00")
        return None
    cents = approx * 100
    margin = error * 100 + 4 * UNIT * abs(cents)
    if math.floor(cents - margin + 0.5) != math.floor(cents + margin + 0.5):
        return None
    return approx
