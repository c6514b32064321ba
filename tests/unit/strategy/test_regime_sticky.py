"""StickyTrendRegime: a streaming trend/range label with hysteresis and a minimum duration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradebot.strategy.base import Bars
from tradebot.strategy.regime import REGIME_DETECTORS, StickyTrendRegime, TrendRegime

DETECTOR = StickyTrendRegime(period=40, enter=0.45, leave=0.25, min_bars=48, settle_bars=300)


def _two_regimes(seed: int = 0) -> pd.DataFrame:
    # 400 bars of a driftless walk (range), then 400 bars drifting up 0.5% a bar (trend)
    rng = np.random.default_rng(seed)
    steps = np.concatenate([rng.normal(0, 0.01, 400), rng.normal(0.005, 0.01, 400)])
    return pd.DataFrame({"close": 100 * np.exp(np.cumsum(steps))})


def _flips(state: np.ndarray) -> int:
    known = state[~np.isnan(state)]
    return int((np.diff(known) != 0).sum())


def test_sticky_trend_two_regimes_split_within_40_bars_and_flip_at_most_3_times() -> None:
    # Arrange
    candles = _two_regimes()

    # Act
    state = DETECTOR.calculate(candles)["sticky_trend"]
    plain = TrendRegime(period=40, threshold=0.3).calculate(candles)["efficiency"] >= 0.3

    # Assert: measured: trend from bar 428, 3 flips; the plain threshold flips 29 times
    assert np.all(state[40:400] == 0.0), "no trend in the driftless half"
    first_trend = 400 + int(np.argmax(state[400:] == 1.0))
    assert first_trend < 440
    assert _flips(state) <= 3
    assert _flips(plain[40:].astype(float)) >= 3 * _flips(state)


def test_sticky_trend_appending_bars_never_changes_a_past_label() -> None:
    candles = _two_regimes(seed=1)
    full = DETECTOR.calculate(candles)["sticky_trend"]

    for k in (60, 300, 455, 700):
        prefix = DETECTOR.calculate(candles.iloc[:k])["sticky_trend"]
        np.testing.assert_array_equal(prefix, full[:k])


def test_sticky_trend_live_window_agrees_with_full_history() -> None:
    candles = _two_regimes(seed=2)
    full = DETECTOR.calculate(candles)["sticky_trend"]
    window = DETECTOR.live_window_bars

    for j in range(window, len(candles), 7):
        state = DETECTOR.calculate(candles.iloc[j + 1 - window : j + 1])["sticky_trend"]
        assert state[-1] == full[j], f"bar {j}"


def test_sticky_trend_label_names_the_state_and_is_registered() -> None:
    columns = DETECTOR.calculate(_two_regimes())
    bars = Bars(np.arange(800, dtype=np.int64), columns)

    assert DETECTOR.label(bars, 10) is None
    assert DETECTOR.label(bars, 100) == "range"
    assert DETECTOR.label(bars, 700) == "trend"
    assert REGIME_DETECTORS["sticky_trend"] is StickyTrendRegime


def test_sticky_trend_leave_above_enter_raises() -> None:
    with pytest.raises(ValueError, match="leave must be at most enter"):
        StickyTrendRegime(enter=0.3, leave=0.4)
