"""The lookahead check flags strategies that peek and passes causal ones."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from strategy_candles import PEEKING

from tradebot.domain.errors import DataError
from tradebot.strategy.base import Strategy
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.cuts import AFTER_SIGNAL, WARMUP, choose_cuts
from tradebot.strategy.findings import INDICATOR, READ
from tradebot.strategy.lookahead import SIGNAL_COLUMN, LookaheadFinding, check_lookahead
from tradebot.strategy.registry import create_strategy


@pytest.mark.parametrize(
    "strategy",
    [EmaCrossover(), RsiMeanReversion(trend_period=50), Breakout()],
    ids=lambda s: s.name,
)
def test_check_lookahead_builtin_passes(strategy: Strategy, btc_3000: pd.DataFrame) -> None:
    report = check_lookahead(strategy, btc_3000)
    assert not report.has_lookahead
    assert report.findings == ()
    assert len(report.cuts) >= 40 + strategy.warmup_bars
    assert report.n_bars == 3000


def test_check_lookahead_causal_user_strategy_passes(btc_3000: pd.DataFrame) -> None:
    report = check_lookahead(create_strategy(f"{PEEKING}:TrailingMean", {}), btc_3000)
    assert not report.has_lookahead
    assert "x" in report.columns


def _findings(class_name: str, candles: pd.DataFrame) -> dict[str, LookaheadFinding]:
    # The findings asked flat (and the indicators and reads), by column.
    report = check_lookahead(lambda: create_strategy(f"{PEEKING}:{class_name}", {}), candles)
    assert report.has_lookahead
    return {f.column: f for f in report.findings if f.position in ("", "flat")}


def test_check_lookahead_flags_shift_minus_one_at_last_bar(btc_3000: pd.DataFrame) -> None:
    report = check_lookahead(lambda: create_strategy(f"{PEEKING}:ShiftMinusOne", {}), btc_3000)
    x = next(f for f in report.findings if f.column == "x")
    assert x.first_bar == x.cut - 1
    assert isinstance(x.truncated_value, float)
    assert math.isnan(x.truncated_value)
    assert x.n_cuts == len(report.cuts)  # every cut shows it


def test_check_lookahead_flags_centred_window_half_a_window_back(
    btc_3000: pd.DataFrame,
) -> None:
    found = _findings("CentredRolling", btc_3000)
    x = found["x"]
    assert x.first_bar == 12 // 2  # the first centred value, on a history cut before bar 11
    assert x.cut - x.first_bar <= 12 // 2 - 1
    assert x.kind == INDICATOR
    assert x.revealed_by in (WARMUP, AFTER_SIGNAL)
    assert SIGNAL_COLUMN in found


def test_check_lookahead_flags_whole_series_normalisation_from_bar_zero(
    btc_3000: pd.DataFrame,
) -> None:
    found = _findings("WholeSeriesZScore", btc_3000)
    assert set(found) >= {"zscore", "x"}
    assert found["zscore"].first_bar == 0
    assert found["zscore"].max_abs_diff > 0.01


def test_check_lookahead_flags_future_filled_higher_timeframe(btc_3000: pd.DataFrame) -> None:
    report = check_lookahead(lambda: create_strategy(f"{PEEKING}:FutureFilled4h", {}), btc_3000)
    x = next(f for f in report.findings if f.column == "x")
    # Only cuts inside a 4h candle expose it: the bar is in the same 4h bin as the cut.
    assert x.cut - x.first_bar <= 3
    assert 0 < x.n_cuts < len(report.cuts)
    last_bar_ts = int(btc_3000["ts_ms"].iloc[x.cut - 1])
    assert x.first_ts_ms // 14_400_000 == last_bar_ts // 14_400_000


def test_check_lookahead_flags_peek_inside_generate_signals(btc_3000: pd.DataFrame) -> None:
    # ``if i + 1 < len(close)``: under the view the branch never runs (no backtest can peek),
    # and the probe, whose arrays are the full history's length, names the read it makes.
    found = _findings("NextBarSignal", btc_3000)
    assert set(found) == {"close"}
    read = found["close"]
    assert read.kind == READ
    assert read.full_value == f"read bar {read.first_bar + 1}"


def test_choose_cuts_spread_after_warmup_and_last_bars() -> None:
    cuts = choose_cuts(3000, warmup_bars=26, n_cuts=40, seed=7)
    assert len(cuts) == 40
    assert cuts[-3:] == [2997, 2998, 2999]
    assert min(cuts) >= 28
    assert np.diff(cuts).max() < 2 * 3000 / 37
    assert cuts == choose_cuts(3000, warmup_bars=26, n_cuts=40, seed=7)
    assert cuts != choose_cuts(3000, warmup_bars=26, n_cuts=40, seed=8)


def test_check_lookahead_too_few_candles_says_how_many_needed(btc_3000: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"needs at least 29 candles .* got 20"):
        check_lookahead(EmaCrossover(), btc_3000.iloc[:20])
