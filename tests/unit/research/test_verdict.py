"""The verdict in plain words names each check that failed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from factories import make_candles
from tradebot.config import load_config
from tradebot.research.assessment import Assessment, assess
from tradebot.research.grid import GridSearch
from tradebot.research.splits import walk_forward_folds
from tradebot.research.verdict import findings, verdict


@pytest.fixture(scope="module")
def noise() -> Assessment:
    config = load_config(None)
    candles = make_candles(1500, seed=9)
    search = GridSearch(config, {"fast_period": (5, 12), "slow_period": (26, 40)}, min_trades=1)
    return assess(config, candles, walk_forward_folds(1500, 600, 300), search, runs=100)


def test_verdict_on_noise_names_every_failed_check(noise: Assessment) -> None:
    # Arrange: the timing and the deflation both failed on this noise
    assert noise.timing is not None
    assert noise.timing.p_value >= 0.05
    assert noise.dsr.dsr <= 0.95

    # Act
    text = verdict(noise)

    # Assert
    assert text.startswith("Verdict: no evidence of an edge: ")
    assert f"no better than random entries (p = {noise.timing.p_value:.2f})" in text
    assert f"does not survive deflation for 4 trials (DSR {noise.dsr.dsr:.2f} <= 0.95)" in text
    assert text.endswith("Do not trade these parameters on this basis.")


def test_findings_say_when_no_trial_lies_near_the_best_point(noise: Assessment) -> None:
    assert noise.stability is not None
    lonely = replace(noise, stability=replace(noise.stability, n_neighbours=0))

    lines = findings(lonely)

    assert "No other trial lies near the best point, so its stability cannot be judged" in (
        " ".join(lines)
    )
    assert not any(line.startswith("Around the best point") for line in lines)
