"""StopLossManager: fixed %, ATR and trailing stops; take-profit as % or R-multiple."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradebot.risk.stops import StopLossManager, StopMethod, StopParams, TakeProfitMethod

D = Decimal


def manager(method: StopMethod, **kwargs: Any) -> StopLossManager:
    return StopLossManager(StopParams(method=method, **kwargs))


def test_calculate_stop_fixed_pct_is_fraction_below_entry() -> None:
    stop = manager(StopMethod.FIXED_PCT, pct=D("0.02")).calculate_stop(D(100), atr=None)

    assert stop is not None
    assert (stop.price, stop.distance, stop.method) == (D(98), D(2), StopMethod.FIXED_PCT)


def test_calculate_stop_atr_is_multiple_of_atr_below_entry() -> None:
    stop = manager(StopMethod.ATR, atr_multiplier=D(2)).calculate_stop(D(100), atr=1.5)

    assert stop is not None
    assert (stop.price, stop.distance) == (D(97), D(3))


@pytest.mark.parametrize("atr", [None, float("nan"), 0.0])
def test_calculate_stop_atr_unknown_gives_no_stop(atr: float | None) -> None:
    assert manager(StopMethod.ATR).calculate_stop(D(100), atr) is None


def test_calculate_stop_distance_beyond_entry_gives_no_stop() -> None:
    assert manager(StopMethod.ATR, atr_multiplier=D(2)).calculate_stop(D(100), atr=60.0) is None


def test_calculate_stop_none_method_gives_no_stop() -> None:
    assert manager(StopMethod.NONE).calculate_stop(D(100), atr=1.0) is None


def test_update_trailing_stop_price_up_moves_stop_up() -> None:
    trail = manager(StopMethod.TRAILING_PCT, pct=D("0.05"))

    assert trail.update_trailing_stop(D(95), close=D(110), atr=None) == D("104.5")


def test_update_trailing_stop_price_down_never_lowers_stop() -> None:
    trail = manager(StopMethod.TRAILING_ATR, atr_multiplier=D(2))

    assert trail.update_trailing_stop(D(95), close=D(96), atr=1.0) is None
    assert trail.update_trailing_stop(D(95), close=D(97), atr=1.0) is None  # equal: no move
    assert trail.update_trailing_stop(D(95), close=D(98), atr=1.0) == D(96)


def test_update_trailing_stop_fixed_method_never_trails() -> None:
    fixed = manager(StopMethod.ATR)

    assert not fixed.is_trailing
    assert fixed.update_trailing_stop(D(95), close=D(200), atr=1.0) is None


def test_take_profit_pct_is_fraction_above_entry() -> None:
    stops = manager(StopMethod.NONE, take_profit=TakeProfitMethod.PCT, take_profit_pct=D("0.04"))

    assert stops.take_profit(D(100), stop=None) == D(104)


def test_take_profit_r_multiple_is_multiple_of_initial_risk() -> None:
    stops = manager(
        StopMethod.ATR,
        atr_multiplier=D(2),
        take_profit=TakeProfitMethod.R_MULTIPLE,
        take_profit_r=D("1.5"),
    )
    stop = stops.calculate_stop(D(100), atr=2.0)

    assert stops.take_profit(D(100), stop) == D(106)  # risk 4 → target 100 + 1.5 × 4


def test_take_profit_r_multiple_without_stop_is_none() -> None:
    stops = manager(StopMethod.NONE, take_profit=TakeProfitMethod.R_MULTIPLE)

    assert stops.take_profit(D(100), stop=None) is None


def test_take_profit_none_method_is_none() -> None:
    stops = manager(StopMethod.FIXED_PCT)

    assert stops.take_profit(D(100), stops.calculate_stop(D(100), None)) is None
