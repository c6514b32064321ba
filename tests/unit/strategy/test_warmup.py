"""The recursive (warm-up) check: indicators from the live window against the full history."""

from __future__ import annotations

import pandas as pd
import pytest

from resources.strategies import honest
from tradebot.domain.errors import DataError
from tradebot.strategy.base import Strategy
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.trial import indicators
from tradebot.strategy.warmup import check_warmup


@pytest.mark.parametrize(
    "strategy",
    [EmaCrossover(), RsiMeanReversion(trend_period=50), Breakout(), honest.RollingMinPeriods()],
    ids=lambda s: s.name,
)
def test_check_warmup_live_window_gives_backtest_values(
    strategy: Strategy, btc_3000: pd.DataFrame
) -> None:
    report = check_warmup(strategy, btc_3000)
    assert not report.window_too_short
    assert report.needed_bars == strategy.live_window_bars


def test_check_warmup_long_ewm_says_how_many_bars_it_needs(btc_3000: pd.DataFrame) -> None:
    report = check_warmup(honest.LongEwm, btc_3000, rtol=1e-6)
    assert report.window_too_short
    assert [f.column for f in report.findings] == ["x"]
    needed = report.needed_bars
    assert needed is not None
    assert 300 < needed < 1500
    # The window it names is enough, one bar less is not (at the probe that needed most).
    bar = max(report.probes)
    full = indicators(honest.LongEwm(), btc_3000)["x"][bar]

    def window_value(n: int) -> float:
        window = btc_3000.iloc[bar + 1 - n : bar + 1]
        return float(indicators(honest.LongEwm(), window)["x"][-1])

    assert abs(window_value(needed) - full) <= 1e-6 * abs(full)
    assert report.findings[0].rel_diff > 1e-6


def test_check_warmup_cumulative_value_needs_the_whole_history(btc_3000: pd.DataFrame) -> None:
    report = check_warmup(honest.AnchoredVwap, btc_3000)
    assert report.window_too_short
    assert report.needed_bars is None
    assert {f.column for f in report.findings} == {"cum_volume", "x"}


def test_check_warmup_too_little_data_says_how_much(btc_3000: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"needs at least 798 candles .* got 500"):
        check_warmup(EmaCrossover(), btc_3000.iloc[:500])
