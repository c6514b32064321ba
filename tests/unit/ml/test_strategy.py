"""MLStrategy: the same prediction for a bar on the full history and on the live window."""

from __future__ import annotations

import numpy as np
import pytest

from factories import make_candles
from tradebot.domain.decisions import SignalAction
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.ml.strategy import FIT_TS, PROBA, MLStrategy
from tradebot.ml.training import TrainingError
from tradebot.strategy.base import Bars
from tradebot.strategy.lookahead import check_lookahead


def _strategy(kind: ModelKind = ModelKind.RANDOM_FOREST, retrain_every: int = 10) -> MLStrategy:
    return MLStrategy(
        FeatureSpec(return_horizons=(1, 6), volatility_windows=(12,), volume_windows=(8,)),
        LabelSpec(horizon_bars=6),
        ModelSpec(kind, trees=10),
        train_bars=120,
        retrain_every=retrain_every,
        buy_above=0.52,
        sell_below=0.48,
    )


def test_ml_strategy_live_window_predicts_as_full_history_at_every_bar() -> None:
    # Arrange: one instance over the whole history (backtest), one fed rolling windows (live)
    candles = make_candles(400, seed=5)
    backtest = _strategy()
    full = backtest.calculate_indicators(candles)
    live = _strategy()
    window = live.live_window_bars

    # Act / Assert: each bar as the newest bar of its live window
    checked = 0
    for j in range(window, len(candles)):
        frame = live.calculate_indicators(candles.iloc[j + 1 - window : j + 1])
        assert frame[PROBA].iloc[-1] == full[PROBA].iloc[j], f"bar {j}"
        assert frame[FIT_TS].iloc[-1] == full[FIT_TS].iloc[j], f"bar {j}"
        checked += 1
    assert checked == 400 - window
    assert np.isfinite(full[PROBA].to_numpy()[window:]).all()


def test_ml_strategy_passes_the_lookahead_check() -> None:
    candles = make_candles(300, seed=6)

    report = check_lookahead(
        _strategy(ModelKind.LOGISTIC, retrain_every=30), candles, n_cuts=6, max_signal_cuts=3
    )

    assert report.findings == ()


def test_ml_strategy_signal_records_model_id_and_probability() -> None:
    candles = make_candles(300, seed=7)
    strategy = _strategy()
    bars = Bars.from_frame(strategy.calculate_indicators(candles))

    signals = [strategy.generate_signals(bars.upto(i), i, None) for i in range(300)]

    assert signals[0].reason == "no model yet"
    decided = [s for s in signals if s.metadata]
    assert {s.action for s in decided} == {SignalAction.BUY, SignalAction.SELL, SignalAction.HOLD}
    first = decided[0]
    fit_ts = int(bars[FIT_TS][signals.index(first)])
    assert first.metadata["model_id"] == f"random_forest@{fit_ts}"
    assert first.metadata["probability"] == float(bars[PROBA][signals.index(first)])
    assert fit_ts % (10 * 3_600_000) == 0  # fit bars sit on the epoch's 10-hour grid


def test_ml_strategy_long_history_without_rows_raises_with_counts() -> None:
    strategy = MLStrategy(train_bars=60, retrain_every=5, min_rows=80)

    with pytest.raises(TrainingError, match=r"too few rows to train at bar \d+: window 60"):
        strategy.calculate_indicators(make_candles(200, seed=1))
