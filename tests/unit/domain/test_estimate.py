"""An estimate of an amount (``domain/estimate.py``): the floats decide a comparison, or give
the text to the cent, only when their error cannot change the answer; otherwise the Decimal
is made, and it is the Decimal the account made before."""

from __future__ import annotations

import random
from decimal import Decimal

from tradebot.domain.estimate import Estimate, compared, exactly, in_cents, sum_error


def _account(rng: random.Random) -> tuple[Decimal, float, float]:
    """The cash and up to eight holdings at float marks of up to eight decimals, as the
    account sums them: the Decimal (each mark's shortest decimal), the float sum and its
    error bound."""
    cash = Decimal(f"{rng.uniform(0, 5e6):.8f}")
    exact, approx = cash, float(cash)
    magnitude = abs(approx)
    holdings = rng.randint(1, 8)
    for _ in range(holdings):
        qty = Decimal(rng.randint(0, 10**10)) / 10**8
        mark = round(rng.uniform(1e-4, 1e5), rng.randint(0, 8))
        exact += qty * Decimal(repr(mark))
        value = float(qty) * mark
        approx += value
        magnitude += abs(value)
    return exact, approx, sum_error(holdings + 1, magnitude)


def test_random_accounts_compare_and_print_as_their_decimals_do() -> None:
    rng = random.Random(11)
    decided = printed = 0
    for _ in range(3_000):
        exact, approx, error = _account(rng)
        assert abs(Decimal(approx) - exact) <= Decimal(error)
        for limit in (exact, exact + Decimal("1e-9"), exact - Decimal("1e-9"), exact * 2):
            side = compared(approx, error, float(limit))
            if side:
                decided += 1
                assert side == (1 if exact > limit else -1)
        cents = in_cents(approx, error)
        if cents is not None:
            printed += 1
            assert f"{cents:.2f}" == f"{exact:.2f}"
    # the floats answer all but the comparisons within their error of the limit
    assert decided >= 3_000
    assert printed >= 2_990


def test_the_floats_leave_a_limit_within_their_error_to_the_decimals() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats
    approx, error = 0.1 + 0.2, sum_error(2, 0.3)
    assert compared(approx, error, 0.3) == 0
    assert compared(approx, error, 0.31) == -1
    assert compared(approx, error, 0.29) == 1


def test_a_half_cent_or_a_zero_within_the_error_is_left_to_the_decimal() -> None:
    assert in_cents(1234.5649, 1e-9) == 1234.5649
    assert in_cents(1234.565, 1e-9) is None  # 1234.56 or 1234.57: the Decimal says
    assert in_cents(-1e-12, 1e-9) is None  # "-0.00" or "0.00"
    assert in_cents(-0.004, 1e-9) == -0.004


def test_an_estimate_makes_its_decimal_once_and_only_when_asked() -> None:
    made: list[Decimal] = []

    def make() -> Decimal:
        made.append(Decimal("1.5"))
        return made[-1]

    estimate = Estimate(1.5, 1e-12, make)
    assert estimate.sign() == 1
    assert made == []
    assert exactly(estimate) == Decimal("1.5") == estimate.exact()
    assert len(made) == 1
    assert Estimate(0.0, 1e-12, lambda: Decimal("-0.1")).sign() == -1
    assert exactly(Decimal(2)) == 2
