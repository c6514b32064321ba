"""The strategy section: today's files unchanged, ensembles and per-symbol strategies built
from YAML, and every misplaced key refused naming the key and what to do."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml

from factories import make_candles, make_market
from tradebot.backtest.runner import Backtester
from tradebot.config import parse_config
from tradebot.domain.errors import ConfigError
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.assembly import build_engine, build_strategy
from tradebot.strategy.base import Bars
from tradebot.strategy.builtin import EmaCrossover, RsiMeanReversion
from tradebot.strategy.ensemble import Ensemble, EnsembleMode
from tradebot.strategy.horizon import ask_signal
from tradebot.strategy.regime import VolatilityRegime

BASKET = """
trading: {symbols: [BTC/USDT, ETH/USDT, SOL/USDT]}
strategy:
  name: ema_crossover
  params: {fast_period: 5}
  symbols:
    ETH/USDT: {name: rsi_mean_reversion, params: {oversold: 25}}
    SOL/USDT:
      ensemble:
        mode: weighted
        threshold: 0.6
        members:
          - {name: ema_crossover, weight: 2}
          - {name: breakout, params: {period: 30}, weight: 1}
"""


def test_single_strategy_file_of_today_builds_as_before() -> None:
    config = parse_config("strategy: {name: ema_crossover, params: {fast_period: 7}}")

    strategy = build_strategy(config)

    assert isinstance(strategy, EmaCrossover)
    assert strategy.fast_period == 7
    assert config.strategy.ensemble is None
    assert config.strategy.symbols == {}


def test_vote_ensemble_from_yaml() -> None:
    config = parse_config(
        """
strategy:
  ensemble:
    mode: vote
    k: 2
    members: [{name: ema_crossover}, {name: rsi_mean_reversion}, {name: breakout}]
"""
    )

    strategy = build_strategy(config)

    assert config.strategy.name == "ensemble"
    assert isinstance(strategy, Ensemble)
    assert (strategy.mode, strategy.k) == (EnsembleMode.VOTE, 2)
    assert strategy.labels == ("ema_crossover", "rsi_mean_reversion", "breakout")


def test_per_symbol_strategies_each_symbol_gets_its_own() -> None:
    config = parse_config(BASKET)
    markets = [make_market(s) for s in config.trading.all_symbols]

    engine = build_engine(
        config, markets[0], Portfolio.with_cash(Decimal(10_000)), more_markets=markets[1:]
    )

    btc, eth, sol = (engine.strategy_of(s) for s in config.trading.all_symbols)
    assert isinstance(btc, EmaCrossover)
    assert btc.fast_period == 5
    assert isinstance(eth, RsiMeanReversion)
    assert eth.oversold == 25
    assert isinstance(sol, Ensemble)
    assert sol.mode is EnsembleMode.WEIGHTED
    assert sol.threshold == 0.6
    assert [m.weight for m in sol.members] == [2.0, 1.0]


def test_basket_backtest_trades_each_symbol_with_its_strategy() -> None:
    config = parse_config(BASKET)
    markets = [make_market(s) for s in config.trading.all_symbols]
    cash = Decimal(10_000)
    engine = build_engine(config, markets[0], Portfolio.with_cash(cash), more_markets=markets[1:])
    exchange = SimulatedExchange(markets, {"USDT": cash}, FeeSchedule())
    candles = {s: make_candles(300, seed=n) for n, s in enumerate(config.trading.all_symbols)}

    result = Backtester(engine, exchange).run_portfolio(candles)

    assert result.settings["strategies"] == (
        "BTC/USDT ema_crossover, ETH/USDT rsi_mean_reversion, SOL/USDT ensemble"
    )
    decided = {d.symbol: d for d in result.decisions}
    assert set(decided) == set(config.trading.all_symbols)
    assert "rsi" in decided["ETH/USDT"].indicators
    assert "ema_crossover.ema_fast" in decided["SOL/USDT"].indicators
    assert [m.name for m in decided["SOL/USDT"].signal.members] == ["ema_crossover", "breakout"]


def test_conditional_ensemble_with_volatility_detector() -> None:
    config = parse_config(
        """
strategy:
  ensemble:
    mode: conditional
    regime: {detector: volatility, params: {period: 10, long_period: 50}}
    members:
      - {name: breakout, when: high}
      - {name: rsi_mean_reversion, when: low}
"""
    )

    strategy = build_strategy(config)

    assert isinstance(strategy, Ensemble)
    assert isinstance(strategy.regime, VolatilityRegime)
    assert strategy.regime.long_period == 50
    assert strategy.warmup_bars == 50


def test_config_show_output_loads_back_to_the_same_config() -> None:
    config = parse_config(BASKET + "    ")

    again = parse_config(yaml.safe_dump(config.model_dump_masked()))

    assert again.strategy == config.strategy


ENSEMBLE = "strategy:\n  ensemble:\n    mode: {mode}\n{extra}    members:\n{members}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ENSEMBLE.format(
                mode="weighted", extra="    k: 2\n", members="      - {name: breakout}\n"
            ),
            r"`strategy.ensemble`: `k` is used by mode vote only: remove it, or set mode: vote",
        ),
        (
            ENSEMBLE.format(
                mode="vote", extra="    k: 3\n", members="      - {name: breakout}\n" * 2
            ),
            r"k = 3 but the ensemble has 2 member\(s\): k must be 1 to 2",
        ),
        (
            ENSEMBLE.format(mode="vote", extra="", members="      - {name: breakout, weight: 2}\n"),
            r"members\[0\] \(breakout\): `weight` is used by mode weighted only",
        ),
        (
            ENSEMBLE.format(
                mode="conditional",
                extra="    regime: {detector: trend}\n",
                members="      - {name: breakout}\n",
            ),
            r"mode conditional needs `when` \(the regime it trades\) on every member",
        ),
        (
            ENSEMBLE.format(
                mode="conditional", extra="", members="      - {name: breakout, when: trend}\n"
            ),
            r"mode conditional needs `regime`",
        ),
        (
            "strategy:\n  name: breakout\n  ensemble: {mode: vote, members: [{name: breakout}]}\n",
            r"name 'breakout' and ensemble are both set",
        ),
        (
            "strategy:\n  ensemble: {mode: vote, members: []}\n",
            r"`strategy.ensemble.members` = \[\]: must list at least one member",
        ),
        (
            "strategy:\n  symbols:\n    ETH/USDT: {params: {period: 3}}\n",
            r"`strategy.symbols`: ETH/USDT: name its strategy",
        ),
    ],
)
def test_misplaced_strategy_key_is_refused_naming_it(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ENSEMBLE.format(
                mode="vote", extra="", members="      - {name: breakout}\n      - {name: ema}\n"
            ),
            r"`strategy.ensemble.members\[1\]`: unknown strategy 'ema'",
        ),
        (
            ENSEMBLE.format(
                mode="conditional",
                extra="    regime: {detector: markov}\n",
                members="      - {name: breakout, when: trend}\n",
            ),
            r"`strategy.ensemble.regime`: unknown regime detector 'markov':"
            r" use one of hmm, sticky_trend, trend, vol_trend, volatility",
        ),
        (
            ENSEMBLE.format(
                mode="conditional",
                extra="    regime: {detector: trend}\n",
                members="      - {name: breakout, when: bull}\n",
            ),
            r"`strategy.ensemble`: member breakout: when must be one of trend, range",
        ),
        (
            "strategy:\n  symbols:\n    ETH/USDT: {name: breakout, params: {period: 0}}\n"
            "trading: {symbols: [BTC/USDT, ETH/USDT]}\n",
            r"`strategy.symbols.ETH/USDT`: strategy 'breakout': period must be in",
        ),
    ],
)
def test_unbuildable_strategy_is_refused_naming_the_key(text: str, message: str) -> None:
    config = parse_config(text)
    with pytest.raises(ConfigError, match=message):
        [build_strategy(config, symbol) for symbol in config.trading.all_symbols]


def test_override_for_a_symbol_not_traded_is_refused() -> None:
    config = parse_config("strategy:\n  symbols:\n    ETH/USDT: {name: breakout}\n")

    with pytest.raises(ConfigError, match=r"gives ETH/USDT a strategy, but only BTC/USDT"):
        build_engine(config, make_market(), Portfolio.with_cash(Decimal(10_000)))


REGIMES = (Path(__file__).parents[2] / "resources" / "strategies" / "regimes.py").as_posix()


def test_users_own_regime_detector_from_a_file_chooses_the_member() -> None:
    config = parse_config(
        f"""
strategy:
  ensemble:
    mode: conditional
    regime: {{detector: '{REGIMES}:AboveAverage', params: {{period: 10}}}}
    members:
      - {{name: ema_crossover, when: up}}
      - {{name: breakout, when: down}}
"""
    )
    strategy = build_strategy(config)
    candles = make_candles(120, seed=3)
    bars = Bars.from_frame(strategy.calculate_indicators(candles))

    regimes = [ask_signal(strategy, bars, i, None).metadata["regime"] for i in range(120)]

    sma = candles["close"].rolling(10).mean()
    expected = [
        None if np.isnan(a) else "up" if c > a else "down"
        for c, a in zip(candles["close"], sma, strict=True)
    ]
    assert regimes == expected
    assert strategy.warmup_bars == 26  # ema_crossover's, the largest


def test_a_class_that_is_no_regime_detector_is_refused() -> None:
    config = parse_config(
        f"""
strategy:
  ensemble:
    mode: conditional
    regime: {{detector: '{REGIMES}:NotADetector'}}
    members: [{{name: breakout, when: up}}]
"""
    )
    with pytest.raises(ConfigError, match=r"'NotADetector' .* is not a RegimeDetector subclass"):
        build_strategy(config)
