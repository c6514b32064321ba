"""Live trading refuses a strategy that needs a longer window than it can keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import ConfigError
from tradebot.orchestrator.paper import config_window

HONEST = Path(__file__).resolve().parents[2] / "resources" / "strategies" / "honest.py"


def test_config_window_is_the_strategy_window_plus_two() -> None:
    config = with_overrides(load_config(None), {"strategy.name": "breakout"}, "test")
    assert config_window(config) == 20 + 1 + 2


def test_config_window_longer_than_a_live_window_is_refused_naming_both() -> None:
    spec = f"{HONEST}:NeedsLongWindow"
    config = with_overrides(load_config(None), {"strategy.name": spec}, "test")
    with pytest.raises(ConfigError, match=r"needs live_window_bars=1500 .* at most 998"):
        config_window(config)
