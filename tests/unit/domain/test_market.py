"""Market rules: amounts round down to the lot step, prices to the tick, limits refuse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import make_market
from tradebot.domain.errors import InvalidOrder
from tradebot.domain.market import decimal_from_float, timeframe_to_ms


@pytest.mark.parametrize(
    ("qty", "expected"),
    [("0.123456789", "0.12345"), ("0.000019999", "0.00001"), ("1", "1.00000"), ("0.0000099", "0")],
)
def test_round_qty_any_amount_truncates_down_to_lot_step(qty: str, expected: str) -> None:
    # Arrange
    market = make_market(qty_step="0.00001")

    # Act
    rounded = market.round_qty(Decimal(qty))

    # Assert
    assert rounded == Decimal(expected)


@pytest.mark.parametrize(
    ("price", "expected"),
    [("100.006", "100.01"), ("100.004", "100.00"), ("100.015", "100.02"), ("99.995", "100.00")],
)
def test_round_price_off_tick_goes_to_nearest_tick(price: str, expected: str) -> None:
    market = make_market(price_step="0.01")

    assert market.round_price(Decimal(price)) == Decimal(expected)


def test_limit_violation_below_min_notional_names_symbol_and_amounts() -> None:
    market = make_market(min_notional="5")

    reason = market.limit_violation(Decimal("0.0001"), Decimal("40000"))

    assert reason == ("BTC/USDT: notional 4.00000000 USDT is below the minimum notional 5 USDT")


def test_limit_violation_below_min_qty_names_amount_and_minimum() -> None:
    market = make_market(min_qty="0.001", qty_step="0.0001", min_notional="0")

    reason = market.limit_violation(Decimal("0.0005"), Decimal("40000"))

    assert reason == "BTC/USDT: amount 0.0005 is below the minimum amount 0.001"


def test_limit_violation_zero_amount_says_not_positive() -> None:
    market = make_market()

    reason = market.limit_violation(Decimal(0), Decimal("40000"))

    assert reason is not None
    assert "BTC/USDT: amount 0 is not positive" in reason


def test_limit_violation_order_within_limits_is_none() -> None:
    assert make_market().limit_violation(Decimal("0.001"), Decimal("40000")) is None


def test_check_order_below_min_notional_raises_invalid_order_with_reason() -> None:
    market = make_market(min_notional="10")

    with pytest.raises(InvalidOrder, match=r"notional 8\.00000000 USDT is below .* 10 USDT"):
        market.check_order(Decimal("0.0002"), Decimal("40000"))


@pytest.mark.parametrize(
    ("timeframe", "ms"), [("1m", 60_000), ("15m", 900_000), ("4h", 14_400_000), ("1d", 86_400_000)]
)
def test_timeframe_to_ms_valid_timeframe_gives_length(timeframe: str, ms: int) -> None:
    assert timeframe_to_ms(timeframe) == ms


@pytest.mark.parametrize("timeframe", ["", "m", "0m", "1y", "-1h", "1.5h"])
def test_timeframe_to_ms_invalid_timeframe_raises_with_examples(timeframe: str) -> None:
    with pytest.raises(ValueError, match=r"is not valid: use a count and a unit, e\.g\. 1m"):
        timeframe_to_ms(timeframe)


def test_decimal_from_float_binary_noise_is_dropped() -> None:
    assert decimal_from_float(0.1) == Decimal("0.1")
    assert decimal_from_float(42123.45) == Decimal("42123.45")
