"""PositionSizer: each method's formula, and the caps by max_position_size and cash."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.estimate import Estimate
from tradebot.domain.portfolio import Trade
from tradebot.risk.sizing import (
    PositionSizer,
    SizingInput,
    SizingMethod,
    SizingParams,
    kelly_fraction,
)

D = Decimal
BIG = D(1_000_000)


def inp(
    equity: str = "10000",
    cash: str = "10000",
    price: str = "100",
    stop: str | None = None,
    atr: float | None = None,
    fee: str = "0",
) -> SizingInput:
    return SizingInput(D(equity), D(cash), D(price), None if stop is None else D(stop), atr, D(fee))


def trades(wins: int, win: str, losses: int, loss: str) -> list[Trade]:
    def t(pnl: str) -> Trade:
        return Trade("BTC/USDT", 0, 1, D(1), D(100), D(100), D(0), D(pnl))

    return [t(win)] * wins + [t(f"-{loss}")] * losses


def test_calculate_size_fixed_fractional_risks_fraction_over_stop_distance() -> None:
    # 2 % of 10,000 = 200 at risk; 5 USDT a unit to the stop → 40 units.
    sizer = PositionSizer(SizingParams(max_position_size=BIG, risk_per_trade=D("0.02")))

    assert sizer.calculate_size(inp(stop="95")) == D(40)


def test_calculate_size_fixed_fractional_without_stop_uses_fraction_of_equity() -> None:
    sizer = PositionSizer(SizingParams(max_position_size=BIG, risk_per_trade=D("0.02")))

    assert sizer.calculate_size(inp(stop=None)) == D(2)
    assert sizer.calculate_size(inp(stop="101")) == D(2)  # a stop above price is no stop


def test_calculate_size_capped_by_max_position_size() -> None:
    sizer = PositionSizer(SizingParams(max_position_size=D(1000)))

    assert sizer.calculate_size(inp(stop="95")) == D(10)


def test_calculate_size_capped_by_free_cash_net_of_fee() -> None:
    sizer = PositionSizer(SizingParams(max_position_size=BIG, cash_buffer=D(0)))

    qty = sizer.calculate_size(inp(cash="1001", stop="99.9", fee="0.001"))

    assert qty == D(10)  # 1001 / 1.001 = 1000 USDT of notional at 100


def test_calculate_size_capped_by_free_cash_keeps_the_cash_buffer() -> None:
    sizer = PositionSizer(SizingParams(max_position_size=BIG, cash_buffer=D("0.01")))

    qty = sizer.calculate_size(inp(cash="1001", stop="99.9", fee="0.001"))

    assert qty == D("9.9")  # 1001 x 0.99 / 1.001 = 990 USDT of notional at 100


def test_calculate_size_no_price_or_equity_is_zero() -> None:
    sizer = PositionSizer(SizingParams())

    assert sizer.calculate_size(inp(price="0")) == 0
    assert sizer.calculate_size(inp(equity="-5")) == 0


def test_calculate_size_fixed_notional_buys_max_position_size() -> None:
    sizer = PositionSizer(
        SizingParams(method=SizingMethod.FIXED_NOTIONAL, max_position_size=D(500))
    )

    assert sizer.calculate_size(inp(price="250")) == D(2)


def test_calculate_size_volatility_target_sizes_one_atr_to_target_of_equity() -> None:
    # ATR 2 at price 100 is 2 % a bar; a 1 % target holds half the equity: 5,000 USDT.
    params = SizingParams(
        method=SizingMethod.VOLATILITY_TARGET, max_position_size=BIG, volatility_target=D("0.01")
    )

    assert PositionSizer(params).calculate_size(inp(atr=2.0)) == D(50)


@pytest.mark.parametrize("atr", [None, 0.0, -1.0])
def test_calculate_size_volatility_target_without_atr_is_zero(atr: float | None) -> None:
    sizer = PositionSizer(SizingParams(method=SizingMethod.VOLATILITY_TARGET))

    assert sizer.calculate_size(inp(atr=atr)) == 0


def test_calculate_size_kelly_from_history_uses_capped_fraction() -> None:
    # W = 0.6, R = 100/50 = 2 → 0.6 − 0.4/2 = 0.4 of equity, capped at 0.3 → 3,000 USDT.
    params = SizingParams(
        method=SizingMethod.KELLY,
        max_position_size=BIG,
        kelly_fraction_cap=D("0.3"),
        kelly_min_trades=10,
    )

    qty = PositionSizer(params).calculate_size(inp(), trades(12, "100", 8, "50"))

    assert qty == D(30)


def test_kelly_fraction_enough_trades_is_w_minus_loss_over_r() -> None:
    history = trades(12, "100", 8, "50")

    assert kelly_fraction(history, D(1), 20, D("0.02")) == D("0.4")


def test_kelly_fraction_too_few_trades_falls_back_to_risk_per_trade() -> None:
    history = trades(5, "100", 0, "1")

    assert kelly_fraction(history, D("0.25"), 20, fallback=D("0.02")) == D("0.02")
    assert kelly_fraction(history, D("0.01"), 20, fallback=D("0.02")) == D("0.01")


def test_kelly_fraction_losing_edge_is_zero() -> None:
    history = trades(4, "50", 16, "100")

    assert kelly_fraction(history, D("0.25"), 20, D("0.02")) == 0


def test_kelly_fraction_only_wins_is_cap_and_only_losses_is_zero() -> None:
    assert kelly_fraction(trades(20, "10", 0, "1"), D("0.25"), 20, D("0.02")) == D("0.25")
    assert kelly_fraction(trades(0, "1", 20, "10"), D("0.25"), 20, D("0.02")) == 0


@pytest.mark.parametrize(
    ("equity", "stop", "max_size", "expected", "made"),
    [
        # 2 % of 10,000 over a 5 USDT stop is 4,000 USDT: the 1,000 cap binds, whatever
        # the equity's last digits (its Decimal is never made)
        ("10000", "95", "1000", D(10), False),
        ("10000", None, "100", D(1), False),  # 200 without a stop, over the 100 cap
        # 4,000 against a cap of 4,000: too close for the floats, so the Decimal decides
        ("10000", "95", "4000", D(40), True),
        ("10000", "95", "5000", D(40), True),  # under the cap: the fraction's size
    ],
)
def test_an_estimated_equity_is_made_exact_only_when_the_cap_may_not_bind(
    equity: str, stop: str | None, max_size: str, expected: Decimal, made: bool
) -> None:
    # Arrange: the equity as a basket's entry gets it, an estimate whose Decimal is made
    # only when asked for
    asked: list[bool] = []

    def exact() -> Decimal:
        asked.append(True)
        return D(equity)

    estimate = Estimate(float(equity), 1e-9, exact)
    sizing = SizingParams(max_position_size=D(max_size), risk_per_trade=D("0.02"))
    stop_price = None if stop is None else D(stop)

    # Act
    size = PositionSizer(sizing).calculate_size(
        SizingInput(estimate, BIG, D(100), stop_price, None, D(0))
    )

    # Assert: the size the Decimal equity gives, made only when it had to be
    assert size == expected
    assert size == PositionSizer(sizing).calculate_size(
        SizingInput(D(equity), BIG, D(100), stop_price, None, D(0))
    )
    assert bool(asked) is made
