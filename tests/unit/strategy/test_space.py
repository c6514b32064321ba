"""Parameter spaces declared beside the defaults, and ranges typed on the command line."""

from __future__ import annotations

from typing import Annotated

import pytest

from tradebot.domain.errors import ConfigError
from tradebot.strategy.adaptive import AdaptiveStrategy
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.space import (
    Choice,
    FloatRange,
    IntRange,
    declared_space,
    parse_dimension,
    space_for,
)


def test_declared_space_builtins_declare_every_parameter_with_its_default_inside() -> None:
    for cls in (EmaCrossover, RsiMeanReversion, Breakout):
        space = declared_space(cls)
        defaults = cls().get_config()

        assert set(space) == set(defaults), cls.name
        for name, dim in space.items():
            value = defaults[name]
            if isinstance(dim, Choice):
                assert value in dim.options
            else:
                assert dim.low <= float(value) <= dim.high, (cls.name, name)  # type: ignore[arg-type]


def test_declared_space_reads_annotated_int_float_log_and_choice() -> None:
    class Mine:
        def __init__(
            self,
            period: Annotated[int, IntRange(5, 50)] = 10,
            rate: Annotated[float, FloatRange(1e-3, 1.0, log=True)] = 0.1,
            kind: Annotated[str, Choice(("ema", "sma"))] = "ema",
            untouched: int = 3,
        ) -> None:
            del period, rate, kind, untouched

    assert declared_space(Mine) == {
        "period": IntRange(5, 50),
        "rate": FloatRange(1e-3, 1.0, log=True),
        "kind": Choice(("ema", "sma")),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5:50", IntRange(5, 50)),
        ("10:200:10", IntRange(10, 200, step=10)),
        ("0.5:3.0", FloatRange(0.5, 3.0)),
        ("1e-3:1:log", FloatRange(1e-3, 1.0, log=True)),
        ("2:64:log", IntRange(2, 64, log=True)),
        ("ema,sma,7", Choice(("ema", "sma", 7))),
    ],
)
def test_parse_dimension_forms(text: str, expected: object) -> None:
    assert parse_dimension(text) == expected


@pytest.mark.parametrize("text", ["50:5", "1:2:3:4", "0:1:log", "a:b"])
def test_parse_dimension_bad_text_names_the_forms(text: str) -> None:
    with pytest.raises(ConfigError, match=r"low:high"):
        parse_dimension(text)


def test_space_for_fixed_parameters_are_not_searched_and_overrides_replace() -> None:
    space = space_for(EmaCrossover, ["rsi_period"], {"fast_period": IntRange(5, 9)})

    assert list(space) == ["fast_period", "slow_period", "rsi_threshold"]
    assert space["fast_period"] == IntRange(5, 9)


def test_space_for_unknown_parameter_is_refused_naming_the_accepted() -> None:
    with pytest.raises(ConfigError, match=r"no parameter fast; accepted: .*fast_period"):
        space_for(EmaCrossover, [], {"fast": IntRange(1, 2)})


def test_space_for_a_parameter_both_fixed_and_ranged_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"fast_period: both held fixed \(-p\) and given a range"):
        space_for(EmaCrossover, ["fast_period"], {"fast_period": IntRange(5, 9)})


def test_space_for_an_adaptive_strategy_takes_per_regime_parameters() -> None:
    # AdaptiveStrategy takes `<regime>.<parameter>` through **params: the names are its own
    space = space_for(
        AdaptiveStrategy, ["strategy", "detector"], {"trend.fast_period": IntRange(5, 9)}
    )

    assert space == {"trend.fast_period": IntRange(5, 9)}
