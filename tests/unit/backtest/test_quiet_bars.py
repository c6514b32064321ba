"""A bar visited for an order's sake, not the strategy's: the engine takes HOLD unasked.

A strategy that names the bars it can signal at (``signal_candidates``) promises HOLD at
every other bar. The backtester skips the bars where nothing else can happen either; a bar
it still visits (an order fills at its open, a stop lies inside its range) is one the
strategy was not asked about in the skipped stretch around it, and is not asked about now.
Only a decision that records the bar asks it, for the record; a strategy that then signals
breaks its promise and is named.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from factories import ScriptedStrategy, candles_from_rows, make_engine
from tradebot.backtest.runner import Backtester
from tradebot.domain.decisions import Signal, SignalAction
from tradebot.domain.errors import StrategyError
from tradebot.domain.portfolio import Position
from tradebot.risk.stops import StopMethod, StopParams
from tradebot.strategy.base import Bars

FLAT = (100.0, 100.5, 99.5, 100.0)
DROP = (100.0, 100.5, 96.0, 100.0)  # through a 2 % stop below 100
STOP = StopParams(method=StopMethod.FIXED_PCT, pct=Decimal("0.02"))


def candles(drops: tuple[int, ...] = ()) -> pd.DataFrame:
    return candles_from_rows(DROP if i in drops else FLAT for i in range(40))


class Counting(ScriptedStrategy):
    """A script that notes every bar it was asked about."""

    def __init__(self, buy_bars: tuple[int, ...], sell_bars: tuple[int, ...] = ()) -> None:
        super().__init__(buy_bars, sell_bars)
        self.asked: list[int] = []

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        self.asked.append(i)
        return super().generate_signals(bars, i, position)


class Liar(Counting):
    """Announces only its buy bars, yet sells one bar after each."""

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if i - 1 in self.buy_bars:
            self.asked.append(i)
            return Signal(SignalAction.SELL, 1.0, "a sell it did not announce")
        return super().generate_signals(bars, i, position)


def test_the_strategy_is_asked_only_at_its_candidates_when_bars_are_skipped() -> None:
    # Arrange: a buy at 5 fills at 6's open (a visit), its stop fills inside bar 12 (a visit)
    strategy = Counting(buy_bars=(5, 20), sell_bars=(30,))
    engine, exchange = make_engine(strategy, stops=STOP, record_holds=False)

    # Act
    result = Backtester(engine, exchange).run(candles(drops=(12,)))

    # Assert: visited at 5, 6, 12, 20, 21, 30, 31; asked at the scripted bars alone
    assert result.trades[0].exit_reason == "stop_loss"
    assert int(result.settings["bars_visited"] or 0) > 5
    assert strategy.asked == [5, 20, 30]


def test_every_bar_still_asks_the_strategy_at_every_bar() -> None:
    strategy = Counting(buy_bars=(5,))
    engine, exchange = make_engine(strategy, stops=STOP, record_holds=False)

    Backtester(engine, exchange, every_bar=True).run(candles())

    assert strategy.asked == list(range(40))


def test_a_recorded_decision_at_a_quiet_bar_asks_the_strategy_for_its_record() -> None:
    # With every hold recorded, the visit at 6 (the entry's fill) is recorded with the
    # strategy's own answer there
    strategy = Counting(buy_bars=(5,))
    engine, exchange = make_engine(strategy, stops=STOP, record_holds=True)

    Backtester(engine, exchange).run(candles())

    assert strategy.asked == [5, 6]


def test_a_strategy_that_signals_off_its_candidates_is_named() -> None:
    strategy = Liar(buy_bars=(5,))
    engine, exchange = make_engine(strategy, stops=STOP, record_holds=True)

    with pytest.raises(StrategyError) as raised:
        Backtester(engine, exchange).run(candles())

    message = str(raised.value)
    assert "strategy scripted signalled SELL at bar 2024-01-01 06:00 UTC" in message
    assert "signal_candidates" in message
    assert "return None to be asked at every bar" in message
