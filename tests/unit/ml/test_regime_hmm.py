"""HmmRegime: a hidden-Markov regime detector fitted on past bars only, read forward only,
usable wherever a RegimeDetector is (a conditional ensemble, from the config)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from factories import ScriptedStrategy
from tradebot.domain.errors import ConfigError
from tradebot.ml.regime import HmmRegime
from tradebot.strategy.base import Bars
from tradebot.strategy.ensemble import Ensemble, EnsembleMode, Member
from tradebot.strategy.horizon import ask_signal
from tradebot.strategy.registry import create_regime_detector

DETECTOR = HmmRegime(train_bars=600, retrain_every=100, filter_bars=100, vol_bars=12)
SEGMENT = 300
LOW, HIGH = 0.0, 2.0  # the codes of "low" and "high"


def _calm_and_wild(seed: int = 0, segments: int = 8) -> pd.DataFrame:
    # 300-bar stretches of 0.5% hourly noise, then 2%, then 0.5%... (no drift)
    rng = np.random.default_rng(seed)
    sd = np.concatenate([np.full(SEGMENT, 0.005 if k % 2 == 0 else 0.02) for k in range(segments)])
    close = 100 * np.exp(np.cumsum(rng.normal(0.0, 1.0, len(sd)) * sd))
    ts = (np.arange(len(sd)) + 1_000) * 3_600_000
    return pd.DataFrame(
        {"ts_ms": ts, "open": close, "high": close, "low": close, "close": close, "volume": 1.0}
    )


def test_hmm_regime_two_regimes_split_within_15_bars_and_flip_at_most_6_times() -> None:
    # Arrange
    candles = _calm_and_wild()

    # Act
    code = DETECTOR.calculate(candles)["code"]

    # Assert: measured: the first model at bar 700, the five changes after it named within
    # 3, 11, 2, 11, 2 bars, five flips in all
    known = code[~np.isnan(code)]
    first = int(np.flatnonzero(~np.isnan(code))[0])
    assert first == 700  # the first fit bar with 600 bars and their features behind it
    for change in range(900, len(code), SEGMENT):
        wanted = HIGH if (change // SEGMENT) % 2 else LOW
        assert int(np.argmax(code[change : change + SEGMENT] == wanted)) < 15, change
        assert np.all(code[change + 15 : change + SEGMENT] == wanted), change
    assert int((np.diff(known) != 0).sum()) <= 6


def test_hmm_regime_appending_bars_never_changes_a_past_label() -> None:
    candles = _calm_and_wild(seed=1)
    full = DETECTOR.calculate(candles)

    for k in (705, 1234, 1900, len(candles) - 1):
        prefix = DETECTOR.calculate(candles.iloc[:k])
        np.testing.assert_array_equal(prefix["code"], full["code"][:k])
        np.testing.assert_array_equal(prefix["confidence"], full["confidence"][:k])


def test_hmm_regime_live_window_labels_as_the_full_history() -> None:
    candles = _calm_and_wild(seed=2)
    full = DETECTOR.calculate(candles)
    window = DETECTOR.live_window_bars

    for j in range(window, len(candles), 131):
        fresh = HmmRegime(**DETECTOR.get_config())  # type: ignore[arg-type]
        part = fresh.calculate(candles.iloc[j + 1 - window : j + 1])
        assert part["code"][-1] == full["code"][j], f"bar {j}"
        assert part["confidence"][-1] == full["confidence"][j], f"bar {j}"


def test_conditional_ensemble_chooses_by_the_hmm_regime_named_in_a_config() -> None:
    # Arrange: the detector built by name, as `regime: {detector: hmm, params: ...}` does
    candles = _calm_and_wild(seed=3, segments=5)
    detector = create_regime_detector("hmm", DETECTOR.get_config())
    ensemble = Ensemble(
        [
            Member(ScriptedStrategy(buy_bars=range(len(candles))), when="high"),
            Member(ScriptedStrategy(sell_bars=range(len(candles))), when="low"),
        ],
        EnsembleMode.CONDITIONAL,
        regime=detector,
    )
    bars = Bars.from_frame(ensemble.calculate_indicators(candles))
    code = DETECTOR.calculate(candles)["code"]

    # Act
    signals = [ask_signal(ensemble, bars, i, None) for i in range(650, len(candles), 7)]

    # Assert
    assert isinstance(detector, HmmRegime)
    for i, signal in zip(range(650, len(candles), 7), signals, strict=True):
        wanted = {HIGH: "BUY", LOW: "SELL"}.get(float(code[i]), "HOLD")
        assert signal.action == wanted, i
        if wanted != "HOLD":
            assert signal.metadata["regime"] == ("high" if wanted == "BUY" else "low")
            assert 0.5 <= float(signal.metadata["regime_confidence"] or 0) <= 1.0


def test_hmm_detector_without_the_ml_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # hmmlearn absent: a None in sys.modules makes its import fail as a missing module does
    monkeypatch.setitem(sys.modules, "hmmlearn", None)
    monkeypatch.setitem(sys.modules, "hmmlearn.hmm", None)
    for name in ("tradebot.ml.regime", "tradebot.ml.hmm"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    with pytest.raises(ConfigError, match=r"needs the ml extra .*pip install 'tradebot\[ml\]'"):
        create_regime_detector("hmm", {})
