"""``AdaptiveStrategy``: one strategy whose parameters switch with the detected regime
(design VII.D).

It is a conditional ensemble (``Ensemble``) whose members are the same strategy built with
each regime's parameter set, so nothing about it is a second mechanism: the detector names
the regime at the bar, causally; the member holding that regime's parameters decides alone
(its exits too, while a position is open); each member's indicators are computed once over
the history under ``<member>.<column>``; the signal's metadata records the regime, the
detector's confidence and the regime's start, and the decision log keeps them.

Its parameters are flat, so a config, ``--param`` and the optimiser's ``--space`` name them
alike::

    strategy: ema_crossover        # the strategy whose parameters switch
    detector: sticky_trend         # a regime detector (built-in, hmm, or file.py:Class)
    regime.period: 40              # the detector's parameters
    rsi_threshold: 100             # every regime's
    trend.fast_period: 8           # the trend regime's own (a label of the detector)

A regime with parameters of its own has its own member (named by the regime); the regimes
without share one member, ``base``, built with the plain parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from tradebot.domain.decisions import MetadataValue
from tradebot.domain.errors import ConfigError
from tradebot.strategy.base import StrategyConfig
from tradebot.strategy.ensemble import REGIME_PREFIX, Ensemble, EnsembleMode, Member

BASE = "base"


class AdaptiveStrategy(Ensemble):
    """One strategy whose parameters switch with the regime a detector names: regime.<p>
    for the detector, <regime>.<p> for one regime, <p> for all (see the module)."""

    name: ClassVar[str] = "adaptive"

    def __init__(
        self,
        strategy: str = "ema_crossover",
        detector: str = "sticky_trend",
        **params: MetadataValue,
    ) -> None:
        """Build the detector and one member per distinct parameter set.

        Raises:
            ValueError: ``<prefix>.<name>`` with a prefix that is neither ``regime`` nor a
                label of the detector; a strategy or detector refusing a parameter.
        """
        # registry imports this module (to register it), so it is imported here
        from tradebot.strategy.registry import create_regime_detector, create_strategy

        if strategy in (self.name, "ensemble"):
            raise ValueError(f"strategy must be a single strategy, not {strategy!r}")
        plain, by_prefix = _split(params)
        try:
            found = create_regime_detector(detector, by_prefix.pop(REGIME_PREFIX, {}))
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        unknown = sorted(set(by_prefix) - set(found.labels))
        if unknown:
            msg = (
                f"{', '.join(unknown)}: not a regime of detector {found.name}; prefix a"
                f" parameter with one of {', '.join(found.labels)} (or regime. for the detector's)"
            )
            raise ValueError(msg)
        if BASE in found.labels or REGIME_PREFIX in found.labels:
            msg = f"a detector naming a regime {BASE!r} or {REGIME_PREFIX!r} cannot adapt"
            raise ValueError(msg)
        members: list[Member] = []
        chosen: dict[str, int] = {}
        for label in (*[x for x in found.labels if x in by_prefix], BASE):
            own = by_prefix.get(label, {})
            if label == BASE and all(x in by_prefix for x in found.labels):
                break  # every regime has its own parameters: no base member
            try:
                built = create_strategy(strategy, {**plain, **own})
            except ConfigError as exc:
                raise ValueError(f"{label} parameters: {exc}") from exc
            members.append(Member(built, name=label))
            chosen[label] = len(members) - 1
        self.strategy_name, self.detector_name = strategy, detector
        self._chosen = {x: chosen.get(x, chosen.get(BASE, 0)) for x in found.labels}
        super().__init__(members, EnsembleMode.CONDITIONAL, regime=found)

    def _check_regimes(self) -> dict[str, int]:
        # Every label of the detector has a member: its own, or the base one.
        return self._chosen

    def get_config(self) -> StrategyConfig:
        """The strategy and detector, the detector's parameters as ``regime.<name>``, the
        base parameters plain, and a regime's own as ``<regime>.<name>`` where they differ
        from the base: ``AdaptiveStrategy(**get_config())`` builds the same strategy."""
        assert self.regime is not None  # always built with one
        config: dict[str, MetadataValue] = {
            "strategy": self.strategy_name,
            "detector": self.detector_name,
        }
        for key, value in self.regime.get_config().items():
            config[f"{REGIME_PREFIX}.{key}"] = value
        by_name = {
            label: m.strategy.get_config()
            for label, m in zip(self.labels, self.members, strict=True)
        }
        base = by_name.get(BASE, {})
        config.update(base)
        for label, own in by_name.items():
            if label != BASE:
                differs = {k: v for k, v in own.items() if k not in base or base[k] != v}
                config.update({f"{label}.{k}": v for k, v in differs.items()})
        return config


def _split(
    params: Mapping[str, MetadataValue],
) -> tuple[dict[str, MetadataValue], dict[str, dict[str, MetadataValue]]]:
    # The plain parameters, and the prefixed ones by prefix (`trend.fast_period`).
    plain: dict[str, MetadataValue] = {}
    by_prefix: dict[str, dict[str, MetadataValue]] = {}
    for key, value in params.items():
        prefix, dot, name = key.partition(".")
        if dot:
            by_prefix.setdefault(prefix, {})[name] = value
        else:
            plain[key] = value
    return plain, by_prefix
