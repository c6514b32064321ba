"""One trial through the real backtester: scored, and leaving nothing behind on long data."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from factories import random_walk_candles
from tradebot.backtest.dataset import load_backtest_data
from tradebot.config import load_config, with_overrides
from tradebot.research.trial import COLLECT_AFTER_BARS, TrialRunner, TrialSpec

PARAMS = {"fast_period": 12, "slow_period": 26, "rsi_period": 14, "rsi_threshold": 70.0}


def long_minutes() -> tuple[pd.DataFrame, TrialSpec]:
    """The bundled December 2024 minutes (44,640 bars): past COLLECT_AFTER_BARS."""
    config = with_overrides(load_config(None), {"trading.timeframe": "1m"}, "test")
    data = load_backtest_data(config)
    assert len(data.candles) >= COLLECT_AFTER_BARS
    return data.candles, TrialSpec(data.config, 0, ("sharpe",), ("total_trades>=1",))


def test_trial_runner_on_long_data_keeps_no_garbage_between_trials() -> None:
    candles, spec = long_minutes()
    runner = TrialRunner(spec, candles)
    runner.run(0, PARAMS)  # warm caches (indicator kernels, market rules)

    tracemalloc.start()
    try:
        outcome = runner.run(1, PARAMS)
        held_mb = tracemalloc.get_traced_memory()[0] / 2**20
    finally:
        tracemalloc.stop()

    assert outcome.error is None
    assert outcome.values is not None
    assert outcome.violations[0] <= 0
    assert held_mb < 2.0  # the engine, orders and ledger of the trial are gone
    assert len(outcome.daily_returns) == 31  # December's days
    assert np.isfinite(outcome.daily_returns).all()


def test_trial_scored_by_a_user_function_sees_the_fills(tmp_path: Path) -> None:
    # Arrange: built-in objectives score trades and equity (no fills kept); a user function
    # is handed the whole result.
    (tmp_path / "score.py").write_text(
        "def fills(metrics, result):\n    return len(result.fills) - 2 * metrics.total_trades\n",
        encoding="utf-8",
    )
    data = load_backtest_data(load_config(None))
    spec = TrialSpec(data.config, 0, (f"{tmp_path}/score.py:fills",), ())

    # Act
    outcome = TrialRunner(spec, data.candles.iloc[:2000]).run(0, PARAMS)

    # Assert: every round trip's two fills are there (at most one entry still open).
    assert outcome.values is not None
    assert outcome.values[0] in (0.0, 1.0)
    assert outcome.metrics["total_trades"] > 0


def test_trial_on_long_data_peaks_at_few_copies_of_a_bar_column() -> None:
    # Arrange: 300,000 minutes, 2.3 MB a column of floats. A worker's memory is its trial's
    # peak, and a trial peaked at 11.4 columns' worth (151 MB on the whole BTC 1m file): the
    # four indicator columns held through the scoring, three whole-length temporaries to
    # find the days' last bars, the equity made beside the cash and the holdings. Now its
    # peak is the indicators' computation (nine).
    n = 300_000
    config = with_overrides(load_config(None), {"trading.timeframe": "1m"}, "test")
    runner = TrialRunner(TrialSpec(config, 0, ("sharpe",)), random_walk_candles(n, "1m"))
    runner.run(0, PARAMS)  # warm caches
    column_mb = n * 8 / 2**20

    # Act
    tracemalloc.start()
    try:
        outcome = runner.run(1, PARAMS)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()

    # Assert
    assert outcome.error is None
    assert outcome.metrics["total_trades"] > 1000
    assert peak_mb < 10 * column_mb, f"{peak_mb:.1f} MB = {peak_mb / column_mb:.1f} columns"
