"""The live cycle prepares a window's bars from its candles without a frame; what the
strategies decide on must be exactly what the frame path (the backtest's) gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from factories import make_engine
from tradebot.data.frame import candles_to_frame, frame_to_candles
from tradebot.data.load import load_candles, sample_path
from tradebot.domain.decisions import HOLD, Signal
from tradebot.domain.portfolio import Position
from tradebot.orchestrator.candles import CandleWindow, candle_bars
from tradebot.strategy.base import Bars, Strategy, StrategyConfig
from tradebot.strategy.registry import STRATEGIES


@pytest.fixture(scope="module")
def window() -> pd.DataFrame:
    """The 500 newest hours of the bundled 2024 BTC/USDT sample: a live window's length."""
    return load_candles(sample_path("binance_BTC-USDT_1h_2024.csv.gz")).iloc[-500:]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_window_bars_equal_the_frame_paths_column_for_column_bit_for_bit(
    name: str, window: pd.DataFrame
) -> None:
    candles = frame_to_candles(window)
    frame_engine, _ = make_engine(STRATEGIES[name]())
    array_engine, _ = make_engine(STRATEGIES[name]())

    by_frame = frame_engine.prepare(candles_to_frame(candles))
    by_arrays = array_engine.prepare(candle_bars(candles))

    assert list(by_arrays) == list(by_frame)
    assert by_arrays.ts_ms.tolist() == by_frame.ts_ms.tolist()
    for column in by_frame:
        assert np.array_equal(by_arrays[column], by_frame[column], equal_nan=True), column


def test_strategy_without_an_array_path_gets_its_frame_columns(window: pd.DataFrame) -> None:
    class Frames(Strategy):
        """Adds a column through pandas only (the default ``indicator_bars``)."""

        def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
            return candles.assign(mid=(candles["high"] + candles["low"]) / 2)

        def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
            return HOLD

        def get_config(self) -> StrategyConfig:
            return {}

    bars = Frames().indicator_bars(Bars.from_frame(window))

    assert list(bars) == ["open", "high", "low", "close", "volume", "mid"]
    assert bars["mid"].tolist() == ((window["high"] + window["low"]) / 2).tolist()
    assert bars.ts_ms.tolist() == window["ts_ms"].tolist()


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_window_bars_carried_from_poll_to_poll_equal_the_frame_paths(
    name: str, window: pd.DataFrame
) -> None:
    # Arrange: polls as the live bot makes them: the window kept, a poll's answer joined
    candles = frame_to_candles(window)
    kept = CandleWindow(401, 3_600_000)
    kept.replace(candles[:401])
    frame_engine, _ = make_engine(STRATEGIES[name]())
    array_engine, _ = make_engine(STRATEGIES[name]())
    for end in range(401, 420):
        # Act: the newest kept candle comes again (an equal, new object), one more closed
        joined = kept.join([replace(candles[end - 1]), candles[end]]) or []
        by_arrays = array_engine.prepare(kept.bars(joined[-400:]))
        by_frame = frame_engine.prepare(candles_to_frame(candles[end - 399 : end + 1]))
        # Assert: what the strategy decides on, bit for bit; the kept columns read-only
        assert list(by_arrays) == list(by_frame)
        assert by_arrays.ts_ms.tolist() == by_frame.ts_ms.tolist()
        for column in by_frame:
            assert np.array_equal(by_arrays[column], by_frame[column], equal_nan=True), column
        assert not by_arrays["close"].flags.writeable
