"""The strategy barrier names the strategy, its file and line, and the bar's UTC time."""

from __future__ import annotations

from typing import ClassVar

import pytest

from factories import ScriptedStrategy, candles_from_rows, make_engine
from tradebot.backtest.runner import Backtester
from tradebot.domain.decisions import Signal
from tradebot.domain.errors import StrategyError
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars

FLAT = [(100.0, 100.5, 99.5, 100.0)] * 5


class ReturnsNone(ScriptedStrategy):
    name: ClassVar[str] = "returns_none"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        return None  # type: ignore[return-value]  # the mistake under test


class Raises(ScriptedStrategy):
    name: ClassVar[str] = "raises"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if i == 3:
            raise ZeroDivisionError("division by zero")
        return super().generate_signals(bars, i, position)


def test_a_strategy_returning_none_is_a_clear_error_naming_file_line_and_utc_time() -> None:
    engine, exchange = make_engine(ReturnsNone(announce=False))

    with pytest.raises(StrategyError) as caught:
        Backtester(engine, exchange).run(candles_from_rows(FLAT))

    message = str(caught.value)
    assert "strategy returns_none returned None at bar 2024-01-01 00:00 UTC" in message
    assert f"{__file__}:" in message
    assert "return HOLD" in message


def test_a_strategy_that_raises_names_the_line_that_raised() -> None:
    engine, exchange = make_engine(Raises(announce=False))

    with pytest.raises(StrategyError) as caught:
        Backtester(engine, exchange).run(candles_from_rows(FLAT))

    message = str(caught.value)
    assert "strategy raises failed at bar 2024-01-01 03:00 UTC" in message
    assert f"{__file__}:31)" in message
    assert "ZeroDivisionError('division by zero')" in message
