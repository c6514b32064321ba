"""The registry: built-ins by name, user strategies from a file, parameters checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from strategy_candles import PEEKING

from tradebot.domain.errors import ConfigError
from tradebot.strategy.adaptive import AdaptiveStrategy
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.registry import (
    REQUIRED,
    STRATEGIES,
    create_strategy,
    parse_params,
    strategy_parameters,
)


def test_strategies_holds_the_builtins_read_only() -> None:
    assert dict(STRATEGIES) == {
        "ema_crossover": EmaCrossover,
        "rsi_mean_reversion": RsiMeanReversion,
        "breakout": Breakout,
        "adaptive": AdaptiveStrategy,
    }
    with pytest.raises(TypeError):
        STRATEGIES["mine"] = Breakout  # type: ignore[index]


def test_strategy_parameters_lists_defaults() -> None:
    assert strategy_parameters(EmaCrossover) == {
        "fast_period": 12,
        "slow_period": 26,
        "rsi_period": 14,
        "rsi_threshold": 70.0,
    }


def test_create_strategy_by_name_applies_params() -> None:
    strategy = create_strategy("ema_crossover", {"fast_period": 5, "slow_period": 10})
    assert isinstance(strategy, EmaCrossover)
    assert strategy.get_config()["fast_period"] == 5
    assert strategy.get_config()["slow_period"] == 10


def test_create_strategy_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'ema_cross'") as info:
        create_strategy("ema_cross", {})
    assert "breakout, ema_crossover, ml, rsi_mean_reversion" in str(info.value)


def test_create_strategy_unknown_param_names_it_and_accepted_ones() -> None:
    with pytest.raises(ConfigError, match="has no parameter fast") as info:
        create_strategy("breakout", {"fast": 3})
    assert "accepted: period=20, exit_period=10" in str(info.value)


def test_create_strategy_bad_value_keeps_strategy_message() -> None:
    with pytest.raises(ConfigError, match=r"rsi_threshold must be in \[0, 100\], got 150"):
        create_strategy("ema_crossover", {"rsi_threshold": 150})


def test_create_strategy_from_file_loads_user_class() -> None:
    strategy = create_strategy(f"{PEEKING}:TrailingMean", {"window": 5})
    assert type(strategy).__name__ == "TrailingMean"
    assert strategy.get_config() == {"window": 5}
    assert strategy.live_window_bars == 300  # the base class default: max(10 x warm-up, 300)


def test_create_strategy_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.py"
    with pytest.raises(ConfigError, match=r"strategy file .*nope\.py' not found"):
        create_strategy(f"{missing}:Mine", {})


def test_create_strategy_class_not_found_lists_strategy_classes() -> None:
    with pytest.raises(ConfigError, match="has no class 'Missing'") as info:
        create_strategy(f"{PEEKING}:Missing", {})
    assert "CentredRolling, FutureFilled4h, NextBarSignal" in str(info.value)


def test_create_strategy_not_a_strategy_subclass_says_so() -> None:
    with pytest.raises(ConfigError, match=r"'NotAStrategy' .* is not a Strategy subclass"):
        create_strategy(f"{PEEKING}:NotAStrategy", {})


def test_create_strategy_abstract_class_names_missing_methods() -> None:
    with pytest.raises(ConfigError, match="does not implement calculate_indicators"):
        create_strategy(f"{PEEKING}:_PeekBase", {})


def test_create_strategy_broken_file_reports_the_import_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def oops(:\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.py' failed to import: SyntaxError"):
        create_strategy(f"{broken}:Oops", {})


def test_create_strategy_user_required_param_missing_names_it(tmp_path: Path) -> None:
    source = PEEKING.read_text(encoding="utf-8")
    source += (
        "\n\nclass NeedsWindow(TrailingMean):\n"
        "    def __init__(self, lookback: int) -> None:\n"
        "        super().__init__(lookback)\n"
    )
    user_file = tmp_path / "mine.py"
    user_file.write_text(source, encoding="utf-8")
    built = create_strategy(f"{user_file}:NeedsWindow", {"lookback": 3})
    assert strategy_parameters(type(built)) == {"lookback": REQUIRED}
    assert built.get_config() == {"window": 3}
    with pytest.raises(ConfigError, match="needs parameter lookback"):
        create_strategy(f"{user_file}:NeedsWindow", {})


def test_parse_params_converts_numbers_and_booleans() -> None:
    params = parse_params(["fast_period=5", "rsi_threshold=65.5", "flag=true", "mode=fast"])
    assert params == {"fast_period": 5, "rsi_threshold": 65.5, "flag": True, "mode": "fast"}
    assert type(params["fast_period"]) is int


def test_parse_params_item_without_equals_is_refused() -> None:
    with pytest.raises(ConfigError, match="--param 'fast_period' must look like name=value"):
        parse_params(["fast_period"])
