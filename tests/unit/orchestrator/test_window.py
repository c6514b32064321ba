"""Live trading refuses a strategy that needs a longer window than it can keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import ConfigError
from tradebot.orchestrator.paper import config_window
from tradebot.strategy.indicators import ema_convergence_bars

HONEST = Path(__file__).resolve().parents[2] / "resources" / "strategies" / "honest.py"


def test_config_window_is_the_strategy_window_plus_two() -> None:
    fixed_stop = {"strategy.name": "breakout", "risk.stop_loss_method": "fixed_pct"}
    config = with_overrides(load_config(None), fixed_stop, "test")
    assert config_window(config) == 20 + 1 + 2


@pytest.mark.parametrize(
    "setting",
    [
        {"risk.stop_loss_method": "atr"},
        {"risk.stop_loss_method": "trailing_atr"},
        {"risk.stop_loss_method": "fixed_pct", "risk.position_sizing_method": "volatility_target"},
    ],
)
def test_config_window_covers_the_atr_when_stops_or_sizing_read_it(
    setting: dict[str, object],
) -> None:
    # Wilder's ATR forgets its start slowly: on breakout's own 23 bars a paper bot set other
    # stops than its backtest (an ML model with a 49-bar window: all 9 of its stop exits differed)
    config = with_overrides(load_config(None), {"strategy.name": "breakout", **setting}, "test")
    assert config_window(config) == 14 + ema_convergence_bars(14, wilder_smoothing=True) + 2


def test_config_window_longer_than_a_live_window_is_refused_naming_both() -> None:
    spec = f"{HONEST}:NeedsLongWindow"
    config = with_overrides(load_config(None), {"strategy.name": spec}, "test")
    with pytest.raises(ConfigError, match=r"needs_long_window .* needs 1500 candles.* at most 998"):
        config_window(config)


def test_config_window_covers_the_correlation_window_when_the_limit_is_on() -> None:
    # the correlation limit reads risk.correlation_window returns: a live window of the
    # strategy's 21 bars would measure another correlation than the backtest
    on = {"strategy.name": "breakout", "risk.max_correlated_exposure": 2000}
    config = with_overrides(load_config(None), {**on, "risk.correlation_window": 400}, "test")
    assert config_window(config) == 400 + 1 + 2


def test_config_window_too_long_a_correlation_window_is_refused_naming_it() -> None:
    on = {"risk.max_correlated_exposure": 2000, "risk.correlation_window": 1200}
    config = with_overrides(load_config(None), on, "test")
    with pytest.raises(ConfigError, match=r"risk.correlation_window needs 1201 candles"):
        config_window(config)


@pytest.mark.parametrize("detector", ["sticky_trend", "vol_trend", "hmm"])
def test_adaptive_strategy_with_a_default_detector_fits_a_live_window(detector: str) -> None:
    # the defaults must be tradable live, not only backtestable
    params = {"detector": detector}
    config = with_overrides(
        load_config(None), {"strategy.name": "adaptive", "strategy.params": params}, "test"
    )
    assert config_window(config) <= 1000
