"""Ensemble: several strategies deciding one symbol together, itself a Strategy.

Because an ensemble is a Strategy, the engine, the backtester, paper and live trading and
the lookahead check treat it as one strategy: nothing else has a second path. Three ways to
combine the members (design VII.B):

- ``vote``: BUY when at least ``k`` members say BUY at the bar (SELL alike); when both
  sides reach ``k`` it holds. The confidence is the share of members agreeing.
- ``weighted``: each side's score is the weighted mean of its members' confidences (a
  member saying anything else counts 0); the side whose score reaches ``threshold`` and
  beats the other's wins, with the score as confidence.
- ``conditional``: a ``RegimeDetector`` names the regime at the bar (``trend``/``range``,
  ``high``/``low`` volatility...), and the member registered for that regime alone decides;
  in a regime no member trades, or while the detector warms up, it holds. The regime, the
  detector's confidence and the start of the regime are in the signal's metadata.

Each member's indicator columns are kept under ``<member>.<column>`` (the detector's under
``regime.<column>``), so two members with a column of the same name do not collide, and the
decision log shows which member computed what. A member is handed the candles and its own
columns under their own names, as views that end at the bar being decided (``Bars.select``):
the lookahead guarantees hold for it as for a strategy alone. Every member asked is recorded
in the signal (``Signal.members``), and so in the decision log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import numpy as np
import pandas as pd

from tradebot.domain.decisions import MemberSignal, Signal, SignalAction
from tradebot.domain.portfolio import Position
from tradebot.strategy.base import Bars, IndexArray, Strategy, StrategyConfig
from tradebot.strategy.regime import RegimeDetector, regime_metadata

REGIME_PREFIX = "regime"


class EnsembleMode(StrEnum):
    """How the members' signals become one."""

    VOTE = "vote"
    WEIGHTED = "weighted"
    CONDITIONAL = "conditional"


@dataclass(frozen=True, slots=True)
class Member:
    """One strategy of an ensemble: its weight (``weighted``) or its regime (``conditional``);
    ``name`` (default: the strategy's name, ``#2`` on a repeat) prefixes its columns."""

    strategy: Strategy
    weight: float = 1.0
    when: str | None = None
    name: str | None = None


class Ensemble(Strategy):
    """Members deciding together by vote, weighted confidence or regime (see the module)."""

    name: ClassVar[str] = "ensemble"

    def __init__(
        self,
        members: Sequence[Member],
        mode: EnsembleMode = EnsembleMode.VOTE,
        *,
        k: int | None = None,
        threshold: float = 0.5,
        regime: RegimeDetector | None = None,
    ) -> None:
        """Check and keep the members; ``k`` defaults to a majority of them.

        Raises:
            ValueError: no member; ``k`` outside 1..members; a weight not positive; a
                threshold outside (0, 1]; conditional without a detector, or a member's
                regime missing, repeated or not one the detector names.
        """
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = tuple(members)
        self.mode = EnsembleMode(mode)
        self.k = len(members) // 2 + 1 if k is None else k
        self.threshold = threshold
        self.regime = regime
        if not 1 <= self.k <= len(members):
            raise ValueError(f"k must be in [1, {len(members)}] (the members), got {self.k}")
        if any(not m.weight > 0 for m in members):
            raise ValueError("every member's weight must be > 0")
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold:g}")
        self.labels = _labels(self.members)
        self._by_regime = self._check_regimes() if self.mode is EnsembleMode.CONDITIONAL else {}
        self._columns: list[dict[str, str]] = [{} for _ in self.members]
        self._regime_columns: dict[str, str] = {}

    def _check_regimes(self) -> dict[str, int]:
        if self.regime is None:
            raise ValueError("mode conditional needs a regime detector")
        known = self.regime.labels
        chosen: dict[str, int] = {}
        for n, member in enumerate(self.members):
            if member.when not in known:
                raise ValueError(
                    f"member {self.labels[n]}: when must be one of {', '.join(known)} "
                    f"(the labels of regime detector {self.regime.name}), got {member.when!r}"
                )
            if member.when in chosen:
                raise ValueError(f"two members trade regime {member.when!r}: keep one")
            chosen[member.when] = n
        return chosen

    # ----------------------------------------------------------------- the contract
    @property
    def warmup_bars(self) -> int:
        """The largest member's warm-up (and the detector's)."""
        own = [m.strategy.warmup_bars for m in self.members]
        if self.regime is not None:
            own.append(self.regime.warmup_bars)
        return max(own)

    @property
    def live_window_bars(self) -> int:
        """The longest window any member (or the detector) needs."""
        own = [m.strategy.live_window_bars for m in self.members]
        if self.regime is not None:
            own.append(self.regime.live_window_bars)
        return max(own)

    def calculate_indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Each member's columns as ``<member>.<column>``, the detector's as ``regime.*``."""
        base = {
            str(c): str(c)
            for c in candles.columns
            if c != "ts_ms" and pd.api.types.is_numeric_dtype(candles[c])
        }
        added: dict[str, object] = {}
        for n, member in enumerate(self.members):
            own = member.strategy.calculate_indicators(candles)
            columns = dict(base)
            for column in own.columns.difference(candles.columns):
                stored = f"{self.labels[n]}.{column}"
                added[stored] = own[column].to_numpy()
                columns[str(column)] = stored
            self._columns[n] = columns
        if self.regime is not None:
            self._regime_columns = dict(base)
            for column, values in self.regime.calculate(candles).items():
                stored = f"{REGIME_PREFIX}.{column}"
                added[stored] = values
                self._regime_columns[column] = stored
        extra = pd.DataFrame(added, index=candles.index)
        return pd.concat([candles, extra], axis=1)

    def generate_signals(self, bars: Bars, i: int, position: Position | None) -> Signal:
        """The members' combined signal at the close of bar ``i``, each member listed."""
        if self.mode is EnsembleMode.CONDITIONAL:
            return self._conditional(bars, i, position)
        said = tuple(self._ask(n, bars, i, position) for n in range(len(self.members)))
        if self.mode is EnsembleMode.VOTE:
            return self._vote(said)
        return self._weighted(said)

    def signal_candidates(self, bars: Bars) -> IndexArray | None:
        """Where any member may signal: the ensemble signals only where a member does."""
        found = []
        for n, member in enumerate(self.members):
            own = member.strategy.signal_candidates(bars.select(self._columns[n]))
            if own is None:
                return None
            found.append(np.asarray(own, dtype=np.int64))
        return np.unique(np.concatenate(found)).astype(np.int64)

    def get_config(self) -> StrategyConfig:
        """Mode, members and every member's parameters as ``<member>.<parameter>``."""
        config: dict[str, float | int | str | bool | None] = {
            "mode": self.mode.value,
            "members": ",".join(self.labels),
        }
        if self.mode is EnsembleMode.VOTE:
            config["k"] = self.k
        if self.mode is EnsembleMode.WEIGHTED:
            config["threshold"] = self.threshold
        for label, member in zip(self.labels, self.members, strict=True):
            if self.mode is EnsembleMode.WEIGHTED:
                config[f"{label}.weight"] = member.weight
            if member.when is not None:
                config[f"{label}.when"] = member.when
            for key, value in member.strategy.get_config().items():
                config[f"{label}.{key}"] = value
        if self.regime is not None:
            config["regime"] = self.regime.name
            for key, value in self.regime.get_config().items():
                config[f"{REGIME_PREFIX}.{key}"] = value
        return config

    # ----------------------------------------------------------------- combining
    def _ask(self, n: int, bars: Bars, i: int, position: Position | None) -> MemberSignal:
        member = self.members[n].strategy
        signal: object = member.generate_signals(bars.select(self._columns[n]), i, position)
        if not isinstance(signal, Signal):
            what = "None" if signal is None else f"a {type(signal).__name__}"
            raise TypeError(f"member {self.labels[n]} returned {what}, not a Signal")
        return MemberSignal(self.labels[n], signal.action, signal.confidence, signal.reason)

    def _vote(self, said: tuple[MemberSignal, ...]) -> Signal:
        n = len(said)
        buys = [m.name for m in said if m.action is SignalAction.BUY]
        sells = [m.name for m in said if m.action is SignalAction.SELL]
        if len(buys) >= self.k and len(sells) >= self.k:
            reason = f"{len(buys)} of {n} say BUY and {len(sells)} say SELL (k={self.k}): hold"
            return Signal(SignalAction.HOLD, 0.0, reason, members=said)
        for action, voters in ((SignalAction.BUY, buys), (SignalAction.SELL, sells)):
            if len(voters) >= self.k:
                reason = f"{len(voters)} of {n} say {action} (k={self.k}): {', '.join(voters)}"
                return Signal(action, len(voters) / n, reason, members=said)
        reason = f"{len(buys)} of {n} say BUY, {len(sells)} say SELL: fewer than k={self.k}"
        return Signal(SignalAction.HOLD, 0.0, reason, members=said)

    def _weighted(self, said: tuple[MemberSignal, ...]) -> Signal:
        total = sum(m.weight for m in self.members)
        scores = {
            side: sum(
                member.weight * signal.confidence
                for member, signal in zip(self.members, said, strict=True)
                if signal.action is side
            )
            / total
            for side in (SignalAction.BUY, SignalAction.SELL)
        }
        buy, sell = scores[SignalAction.BUY], scores[SignalAction.SELL]
        text = f"weighted BUY {buy:.3f}, SELL {sell:.3f}, threshold {self.threshold:g}"
        for action, score, other in ((SignalAction.BUY, buy, sell), (SignalAction.SELL, sell, buy)):
            if score >= self.threshold and score > other:
                return Signal(action, score, text, members=said)
        return Signal(SignalAction.HOLD, 0.0, text, members=said)

    def _conditional(self, bars: Bars, i: int, position: Position | None) -> Signal:
        assert self.regime is not None  # a conditional ensemble has one (__init__)
        state = self.regime.regime(bars.select(self._regime_columns), i)
        regime = None if state is None else state.label
        metadata = regime_metadata(state)
        n = self._by_regime.get(regime) if regime is not None else None
        if n is None:
            reason = (
                f"regime {regime}: no member trades it"
                if regime is not None
                else f"regime {self.regime.name} warming up"
            )
            return Signal(SignalAction.HOLD, 0.0, reason, metadata)
        said = self._ask(n, bars, i, position)
        reason = f"regime {regime}: {said.name} decides: {said.reason}"
        return Signal(said.action, said.confidence, reason, metadata, (said,))


def _labels(members: Sequence[Member]) -> tuple[str, ...]:
    # Each member's name; a repeated name gets #2, #3... in the order listed.
    seen: dict[str, int] = {}
    labels = []
    for member in members:
        name = member.name or member.strategy.name
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(labels)
