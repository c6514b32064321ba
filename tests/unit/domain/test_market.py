"""Market rules: amounts round down to the lot step, prices to the tick, limits refuse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories import make_market
from tradebot.backtest.dataset import bundled_sample
from tradebot.data.load import load_candles
from tradebot.domain.errors import InvalidOrder
from tradebot.domain.market import LastFloat, decimal_from_float, timeframe_to_ms


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


EDGES = [
    0.1, 0.3, 42123.45, 100.0, 65000.0, 1.0, 0.0001, 9e-05, 1e-05, 1.5e-05, 1e-08, 1e-09,
    123.456789012, 9999999.99999999, 1e15, 1e16, 0.0, -3.25, 0.30000000000000004,
    2.675, 1 / 3, 12345678.9, 0.00012345,
]  # fmt: skip


@pytest.mark.parametrize("value", EDGES)
def test_decimal_from_float_is_the_floats_repr_digit_for_digit(value: float) -> None:
    # Made without the repr for most prices: the digits and the exponent must still be the
    # repr's (a Decimal's text, in reports and the decision log, shows its exponent).
    assert decimal_from_float(value).as_tuple() == Decimal(repr(value)).as_tuple()


def test_decimal_from_float_is_the_repr_for_every_price_of_the_bundled_sample() -> None:
    candles = load_candles(bundled_sample("BTC/USDT", "1h"))
    prices = {float(v) for column in ("open", "high", "low", "close") for v in candles[column]}
    prices |= {p / 1000 for p in prices} | {p * 1e-7 for p in prices}
    wrong = [p for p in prices if decimal_from_float(p).as_tuple() != Decimal(repr(p)).as_tuple()]
    assert len(prices) > 3000
    assert wrong == []


def test_last_float_is_the_float_of_each_amount_asked() -> None:
    # Arrange
    as_float = LastFloat()
    cash = Decimal("9999.5994052")

    # Act / Assert: the same object again, an equal new one, another amount
    assert as_float.of(cash) == 9999.5994052
    assert as_float.of(cash) == 9999.5994052
    assert as_float.of(Decimal("9999.5994052")) == 9999.5994052
    assert as_float.of(Decimal("0.00001")) == 1e-05
    assert as_float.of(cash) == 9999.5994052
