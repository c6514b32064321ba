"""A strategy sees bars ``0..i`` only: reading a later bar raises LookaheadError, live and backtest.

The strategies here are written the way users write them: they index the arrays of ``Bars``
directly, and the engine (the same one in backtests, paper and live) asks them for a signal.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from factories import make_candles, make_engine
from tradebot.backtest.runner import Backtester
from tradebot.domain.decisions import HOLD, Signal, SignalAction
from tradebot.domain.errors import LookaheadError, StrategyError
from tradebot.domain.events import BarClosed
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, Strategy, StrategyConfig
from tradebot.strategy.horizon import guarded_upto


class _Plain(Strategy):
    """No indicators; subclasses decide in ``generate_signals``."""

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        return candles

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        return HOLD

    def get_config(self) -> StrategyConfig:
        return {}


class NextClose(_Plain):
    """BUY when the next close is higher: a plain ``close[i + 1]``."""

    name: ClassVar[str] = "next_close"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        close = bars["close"]
        if close[i + 1] > close[i]:
            return Signal(SignalAction.BUY, 1.0, "next close is higher")
        return HOLD


class HeldNextLow(_Plain):
    """Enters every 10th bar; while holding, SELLs before a falling next low (``low[i + 1]``)."""

    name: ClassVar[str] = "held_next_low"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if position is None:
            return Signal(SignalAction.BUY, 1.0, "enter") if i % 10 == 0 else HOLD
        low = bars["low"]
        if low[i + 1] < low[i]:
            return Signal(SignalAction.SELL, 1.0, "the next low is lower")
        return HOLD


class NextCloseAt(_Plain):
    """The same peek through the float reader: ``bars.at("close", i + 1)``."""

    name: ClassVar[str] = "next_close_at"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        if bars.at("close", i + 1) > bars.at("close", i):
            return Signal(SignalAction.BUY, 1.0, "next close is higher")
        return HOLD


class EndOfData(_Plain):
    """BUY while the close is below the last close of the history: ``close[-1]``."""

    name: ClassVar[str] = "end_of_data"

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        close = bars["close"]
        if close[i] < close[-1]:
            return Signal(SignalAction.BUY, 1.0, "below the final close")
        return HOLD


class Recorder(_Plain):
    """Records what it can see of the bars at each call."""

    name: ClassVar[str] = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, int, float, int, list[float]]] = []

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        close = bars["close"]
        row = [float(v) for v in dict(bars)["close"][-2:]]
        self.seen.append((i, len(close), bars.n_bars, float(close[-1]), int(bars.ts_ms[-1]), row))
        return HOLD


def _backtest(strategy: Strategy, candles: pd.DataFrame) -> None:
    engine, exchange = make_engine(strategy)
    Backtester(engine, exchange).run(candles)


def test_backtest_next_bar_read_raises_lookahead_error_naming_strategy_column_bar() -> None:
    candles = make_candles(50)
    with pytest.raises(LookaheadError) as raised:
        _backtest(NextClose(), candles)
    error = raised.value
    assert (error.strategy, error.column, error.bar, error.at_bar) == ("next_close", "close", 1, 0)
    assert (
        "strategy next_close read close[1] (the bar of 2024-01-01 01:00 UTC) while deciding bar 0"
        in str(error)
    )
    assert isinstance(error, StrategyError)


def test_backtest_next_bar_read_through_at_is_named_as_a_lookahead() -> None:
    with pytest.raises(LookaheadError) as raised:
        _backtest(NextCloseAt(), make_candles(50))

    error = raised.value
    assert (error.strategy, error.column, error.bar, error.at_bar) == (
        "next_close_at",
        "close",
        1,
        0,
    )


def test_backtest_peek_only_while_holding_raises_at_the_first_held_bar() -> None:
    candles = make_candles(50)
    with pytest.raises(
        LookaheadError, match=r"held_next_low read low\[2\] \(.*\) while deciding bar 1"
    ):
        _backtest(HeldNextLow(), candles)


def test_live_last_bar_read_of_next_bar_raises_lookahead_error_not_index_error() -> None:
    # Live trading asks about the last bar of its window: there is no next bar to read.
    engine, _ = make_engine(NextClose())
    bars = engine.prepare(make_candles(30))
    expected = (
        r"next_close read close\[30\] \(the bar of 2024-01-02 06:00 UTC\) while deciding bar 29"
    )
    with pytest.raises(LookaheadError, match=expected):
        engine.handle(BarClosed(engine.symbol, int(bars.ts_ms[29]), 29))


def test_backtest_minus_one_is_the_decided_bar_not_the_end_of_history() -> None:
    # Today close[-1] is the last close of the whole backtest: a peek that live cannot make.
    candles = make_candles(200, seed=3)
    engine, exchange = make_engine(EndOfData())
    result = Backtester(engine, exchange).run(candles)
    assert result.trades == []
    assert not any(d.signal.action is SignalAction.BUY for d in result.decisions)


def test_strategy_sees_bars_up_to_i_in_every_accessor() -> None:
    candles = make_candles(20)
    strategy = Recorder()
    _backtest(strategy, candles)
    close = candles["close"].to_numpy()
    ts = candles["ts_ms"].to_numpy()
    assert [s[0] for s in strategy.seen] == list(range(20))
    for i, n_close, n_bars, last, last_ts, tail in strategy.seen:
        assert (n_close, n_bars, last, last_ts) == (i + 1, i + 1, close[i], ts[i])
        assert tail == [float(v) for v in close[max(i - 1, 0) : i + 1]]


def test_error_that_is_not_a_peek_stays_a_strategy_error() -> None:
    class Broken(_Plain):
        name: ClassVar[str] = "broken"

        def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
            return Signal(SignalAction.BUY, 1.0, str(1 // int(bars["volume"][i] * 0)))

    with pytest.raises(StrategyError, match="ZeroDivisionError") as raised:
        _backtest(Broken(), make_candles(10))
    assert not isinstance(raised.value, LookaheadError)


def test_view_reads_cost_no_copy_of_the_columns() -> None:
    bars = Bars(np.arange(5, dtype=np.int64), {"close": np.arange(5.0)})
    view = bars.upto(2)
    assert np.shares_memory(view["close"], bars["close"])
    assert list(view["close"]) == [0.0, 1.0, 2.0]
    assert "close" in view
    assert list(view) == ["close"]


def _guarded_bars() -> Bars:
    ts = 1_704_067_200_000 + 3_600_000 * np.arange(10, dtype=np.int64)
    return Bars(ts, {"close": np.arange(10.0), "open": np.arange(10.0) - 0.5})


@pytest.mark.parametrize(
    ("read", "column", "bar"),
    [
        (lambda b: b["close"][5], "close", 5),
        (lambda b: b["close"][[3, 6]], "close", 6),
        (lambda b: b["close"][2:6], "close", 5),
        (lambda b: b["close"][5:].mean(), "close", 5),
        (lambda b: (b["close"] - b["open"])[7], "close", 7),
        (lambda b: b.ts_ms[5], "ts_ms", 5),
    ],
    ids=["index", "fancy", "slice past", "slice after", "derived", "ts_ms"],
)
def test_guarded_view_names_the_column_and_bar_of_any_future_read(
    read: object, column: str, bar: int
) -> None:
    view = guarded_upto(_guarded_bars(), 4, "probe")
    with pytest.raises(LookaheadError) as raised:
        read(view)  # type: ignore[operator]
    assert (raised.value.column, raised.value.bar, raised.value.at_bar) == (column, bar, 4)


def test_guarded_view_lets_every_read_of_the_past_through() -> None:
    view = guarded_upto(_guarded_bars(), 4, "probe")
    close = view["close"]
    assert [float(close[-1]), float(close[4]), float(close[0])] == [4.0, 4.0, 0.0]
    assert list(close[2:5]) == [2.0, 3.0, 4.0]
    assert list(close[-2:]) == [3.0, 4.0]
    assert list(close[::-1][:2]) == [4.0, 3.0]
    assert float((close - view["open"])[4]) == 0.5
    assert float(close[close > 2].sum()) == 7.0
    with pytest.raises(IndexError) as raised:
        close[-6]  # before bar 0: a bug, but not a look into the future
    assert not isinstance(raised.value, LookaheadError)
