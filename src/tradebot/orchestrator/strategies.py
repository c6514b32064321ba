"""Build a symbol's strategy from its config: one strategy, or an ensemble of members.

Every problem is a ConfigError naming the config key (``strategy.ensemble.members[1]``,
``strategy.symbols.ETH/USDT``) and what to do, raised at startup before anything trades.
"""

from __future__ import annotations

from tradebot.config import EnsembleConfig, StrategySpec
from tradebot.domain.errors import ConfigError
from tradebot.strategy.base import Strategy
from tradebot.strategy.ensemble import Ensemble, EnsembleMode, Member
from tradebot.strategy.registry import create_regime_detector, create_strategy


def strategy_from_spec(spec: StrategySpec, key: str) -> Strategy:
    """The strategy ``spec`` describes; ``key`` is where it sits in the config.

    Raises:
        ConfigError: a strategy, member, detector or parameter cannot be built.
    """
    if spec.ensemble is None:
        return _named(key, spec.name, spec.params)
    return _ensemble(spec.ensemble, f"{key}.ensemble")


def _named(key: str, name: str, params: dict[str, int | float | str | bool]) -> Strategy:
    try:
        return create_strategy(name, dict(params))
    except ConfigError as exc:
        raise ConfigError(f"`{key}`: {exc}") from exc


def _ensemble(config: EnsembleConfig, key: str) -> Ensemble:
    members = [
        Member(
            _named(f"{key}.members[{n}]", m.name, m.params),
            1.0 if m.weight is None else m.weight,
            m.when,
        )
        for n, m in enumerate(config.members)
    ]
    regime = None
    if config.regime is not None:
        try:
            regime = create_regime_detector(config.regime.detector, dict(config.regime.params))
        except ConfigError as exc:
            raise ConfigError(f"`{key}.regime`: {exc}") from exc
    try:
        return Ensemble(
            members,
            EnsembleMode(config.mode),
            k=config.k,
            threshold=0.5 if config.threshold is None else config.threshold,
            regime=regime,
        )
    except ValueError as exc:
        raise ConfigError(f"`{key}`: {exc}") from exc
