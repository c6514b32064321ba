"""VolTrendRegime: volatility terciles × trend, streaming, with hysteresis and a minimum
duration; and the (label, confidence, since) every detector gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradebot.strategy.base import Bars
from tradebot.strategy.regime import REGIME_DETECTORS, TrendRegime, VolTrendRegime
from tradebot.strategy.regime_measures import banded_level, run_ages

DETECTOR = VolTrendRegime(
    vol_bars=24, rank_bars=500, band=0.15, trend_bars=48, min_bars=48, settle_bars=300
)
CALM = 600 + DETECTOR.warmup_bars  # bars of the calm, driftless stretch


def _calm_then_wild_trend(seed: int = 0) -> pd.DataFrame:
    # a driftless walk with 0.5% steps, then 600 bars drifting up 0.8% a bar under 1.5% noise
    rng = np.random.default_rng(seed)
    steps = np.concatenate([rng.normal(0, 0.005, CALM), rng.normal(0.008, 0.015, 600)])
    hours = np.arange(len(steps), dtype=np.int64) * 3_600_000
    return pd.DataFrame({"ts_ms": hours, "close": 100 * np.exp(np.cumsum(steps))})


def _flips(code: np.ndarray) -> int:
    known = code[~np.isnan(code)]
    return int((np.diff(known) != 0).sum())


def test_vol_trend_two_regimes_split_within_40_bars_and_flip_at_most_20_times() -> None:
    # Arrange
    candles = _calm_then_wild_trend()
    high_trend = float(DETECTOR.labels.index("high_trend"))

    # Act
    columns = DETECTOR.calculate(candles)
    code = columns["code"]
    rank, strength = columns["vol_rank"], columns["trend_strength"]
    plain = 2 * ((rank >= 1 / 3).astype(int) + (rank >= 2 / 3)) + (strength >= 1.5)

    # Assert: measured: high_trend 29 bars after the change, 18 flips; unbanded 148
    first = int(np.argmax(code[CALM:] == high_trend))
    assert first < 40
    assert _flips(code) <= 20
    assert _flips(plain[DETECTOR.warmup_bars :].astype(float)) >= 3 * _flips(code)


def test_vol_trend_appending_bars_never_changes_a_past_label() -> None:
    candles = _calm_then_wild_trend(seed=1)
    full = DETECTOR.calculate(candles)

    for k in (100, 700, CALM + 20, len(candles) - 1):
        prefix = DETECTOR.calculate(candles.iloc[:k])
        for name in ("code", "confidence", "age"):
            np.testing.assert_array_equal(prefix[name], full[name][:k], err_msg=name)


def test_vol_trend_live_window_agrees_with_full_history() -> None:
    candles = _calm_then_wild_trend(seed=2)
    full = DETECTOR.calculate(candles)
    window = DETECTOR.live_window_bars

    for j in range(window, len(candles), 11):
        part = DETECTOR.calculate(candles.iloc[j + 1 - window : j + 1])
        assert part["code"][-1] == full["code"][j], f"bar {j}"
        assert part["confidence"][-1] == full["confidence"][j], f"bar {j}"


def test_vol_trend_regime_gives_label_confidence_and_since() -> None:
    candles = _calm_then_wild_trend()
    bars = Bars.from_frame(pd.concat([candles, pd.DataFrame(DETECTOR.calculate(candles))], axis=1))
    code = bars["code"]
    i = CALM + 200
    start = i
    while code[start - 1] == code[i]:
        start -= 1

    state = DETECTOR.regime(bars, i)

    assert DETECTOR.regime(bars, 10) is None
    assert state is not None
    assert state.label == DETECTOR.labels[int(code[i])] == DETECTOR.label(bars, i)
    assert state.since_ts_ms == bars.ts_ms[start]
    assert 0.0 <= state.confidence <= 1.0
    assert REGIME_DETECTORS["vol_trend"] is VolTrendRegime


def test_default_regime_walks_back_to_the_start_of_the_run() -> None:
    # TrendRegime names labels only: confidence 1, since the first bar of the run
    candles = _calm_then_wild_trend()
    detector = TrendRegime(period=20, threshold=0.3)
    bars = Bars.from_frame(pd.concat([candles, pd.DataFrame(detector.calculate(candles))], axis=1))
    labels = [detector.label(bars, i) for i in range(bars.n_bars)]
    i = 900
    start = i
    while labels[start - 1] == labels[i]:
        start -= 1

    state = detector.regime(bars, i)

    assert state is not None
    assert (state.label, state.confidence, state.since_ts_ms) == (labels[i], 1.0, bars.ts_ms[start])


def test_banded_level_holds_between_the_bands_and_run_ages_count_the_run() -> None:
    up, down = (0.4, 0.7), (0.3, 0.6)
    assert banded_level(0.35, -1, up, down) == 1  # no level yet: the midpoints decide
    assert banded_level(0.35, 0, up, down) == 0  # not yet up to 0.4
    assert banded_level(0.35, 1, up, down) == 1  # not yet down below 0.3
    assert banded_level(0.95, 0, up, down) == 2
    assert banded_level(0.1, 2, up, down) == 0
    ages = run_ages(np.array([np.nan, 1.0, 1.0, 0.0, 0.0, 0.0, np.nan, 0.0]))
    np.testing.assert_array_equal(ages, [np.nan, 0, 1, 0, 1, 2, np.nan, 0])


def test_vol_trend_leave_above_enter_raises() -> None:
    with pytest.raises(ValueError, match="leave must be at most enter"):
        VolTrendRegime(enter=1.0, leave=1.5)
