"""The strategy section: one strategy, or an ensemble of several, per symbol.

Today's shape keeps working unchanged (``strategy: {name, params}``). On top of it:

- ``strategy.ensemble: {mode, members, k | threshold | regime}`` makes the strategy an
  ensemble of members (each ``{name, params}``, plus ``weight`` or ``when``);
  ``strategy.name`` is then ``ensemble`` (written or not);
- ``strategy.symbols: {ETH/USDT: {name: ..., params: ...} | {ensemble: ...}}`` gives a
  symbol its own strategy; the others keep the one above.

Every key is acted on or refused: a ``k`` outside vote mode, a ``weight`` outside weighted
mode, a ``when`` outside conditional mode, an override naming no strategy are errors that
name the key and say what to do.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tradebot.config.base import Section
from tradebot.config.sections import check_symbol

_STRATEGY_NAME = re.compile(r"^([a-z_][a-z0-9_]*|.+\.py:[A-Za-z_][A-Za-z0-9_]*)$")
ENSEMBLE_NAME = "ensemble"

ParamValue = int | float | str | bool
EnsembleMode = Literal["vote", "weighted", "conditional"]


def _check_name(value: str) -> str:
    if not _STRATEGY_NAME.match(value):
        msg = "must be a built-in name like ema_crossover, or path/to/file.py:ClassName"
        raise ValueError(msg)
    return value


def _scalars(value: object) -> object:
    # `${FAST:-12}` arrives as the text "12"; a strategy wants the number.
    if not isinstance(value, dict):
        return value
    out: dict[object, object] = {}
    for key, item in value.items():
        if not isinstance(item, ParamValue):
            msg = f"`{key}` must be a number, text or true/false, not {type(item).__name__}"
            raise ValueError(msg)
        out[key] = _typed_scalar(item) if isinstance(item, str) else item
    return out


def _typed_scalar(text: str) -> ParamValue:
    lowered = text.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


class _Params(Section):
    # A section with ``params``: numbers, text or true/false, typed from ${VAR} text.

    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="Parameters (numbers, text, true/false)."
    )

    @field_validator("params", mode="before")
    @classmethod
    def _scalar_params(cls, value: object) -> object:
        return _scalars(value)


class MemberConfig(_Params):
    """One member of an ensemble."""

    name: str = Field(description="Built-in name, or `path/to/file.py:ClassName`.")
    weight: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="Its weight (mode weighted)."
    )
    when: str | None = Field(
        default=None, description="The regime it trades in (mode conditional)."
    )

    @field_validator("name")
    @classmethod
    def _name_form(cls, value: str) -> str:
        return _check_name(value)


class RegimeConfig(_Params):
    """The regime detector of a conditional ensemble."""

    detector: str = Field(
        default="trend",
        description=(
            "trend, sticky_trend, volatility, vol_trend, hmm, or path/to/file.py:ClassName."
        ),
    )


class EnsembleConfig(Section):
    """Several strategies deciding one symbol together."""

    mode: EnsembleMode = Field(description="vote, weighted or conditional.")
    members: list[MemberConfig] = Field(description="The strategies combined.")
    k: int | None = Field(
        default=None, ge=1, description="Votes needed (mode vote); default: a majority."
    )
    threshold: float | None = Field(
        default=None, gt=0, le=1, description="Score needed (mode weighted); default 0.5."
    )
    regime: RegimeConfig | None = Field(
        default=None, description="What chooses the member (mode conditional)."
    )

    @field_validator("members")
    @classmethod
    def _some_members(cls, value: list[MemberConfig]) -> list[MemberConfig]:
        if not value:
            msg = "must list at least one member, e.g. [{name: ema_crossover}, {name: breakout}]"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _keys_of_the_mode(self) -> EnsembleConfig:
        mode, n = self.mode, len(self.members)
        only = {"k": "vote", "threshold": "weighted", "regime": "conditional"}
        for key, needs in only.items():
            if getattr(self, key) is not None and mode != needs:
                msg = f"`{key}` is used by mode {needs} only: remove it, or set mode: {needs}"
                raise ValueError(msg)
        if self.k is not None and self.k > n:
            msg = f"k = {self.k} but the ensemble has {n} member(s): k must be 1 to {n}"
            raise ValueError(msg)
        for index, member in enumerate(self.members):
            where = f"members[{index}] ({member.name})"
            if member.weight is not None and mode != "weighted":
                msg = f"{where}: `weight` is used by mode weighted only: remove it"
                raise ValueError(msg)
            if (member.when is None) == (mode == "conditional"):
                msg = (
                    f"{where}: mode conditional needs `when` (the regime it trades) on every member"
                    if mode == "conditional"
                    else f"{where}: `when` is used by mode conditional only: remove it"
                )
                raise ValueError(msg)
        if mode == "conditional" and self.regime is None:
            msg = "mode conditional needs `regime` (e.g. regime: {detector: trend})"
            raise ValueError(msg)
        return self


class StrategySpec(_Params):
    """One strategy (``name`` and ``params``) or an ensemble of several."""

    name: str = Field(
        default="ema_crossover",
        description="Built-in name, or `path/to/file.py:ClassName`; `ensemble` with ensemble.",
    )
    ensemble: EnsembleConfig | None = Field(
        default=None, description="Several strategies combined, instead of name and params."
    )

    @model_validator(mode="before")
    @classmethod
    def _ensemble_is_named(cls, data: object) -> object:
        # With an ensemble the strategy's name is `ensemble`, so `config show` reloads.
        if isinstance(data, dict) and data.get("ensemble") is not None and "name" not in data:
            return {**data, "name": ENSEMBLE_NAME}
        return data

    @field_validator("name")
    @classmethod
    def _name_form(cls, value: str) -> str:
        return _check_name(value)

    @model_validator(mode="after")
    def _one_or_several(self) -> StrategySpec:
        if self.ensemble is not None and self.name != ENSEMBLE_NAME:
            msg = (
                f"name {self.name!r} and ensemble are both set: an ensemble's members name "
                "their strategies; remove `name` (or write name: ensemble)"
            )
            raise ValueError(msg)
        if self.ensemble is not None and self.params:
            msg = "params and ensemble are both set: give each member its own `params`"
            raise ValueError(msg)
        if self.ensemble is None and self.name == ENSEMBLE_NAME:
            msg = "name ensemble needs `ensemble` (mode and members)"
            raise ValueError(msg)
        return self


class StrategyConfig(StrategySpec):
    """The strategy of every symbol, and per-symbol overrides."""

    symbols: dict[str, StrategySpec] = Field(
        default_factory=dict,
        description="A symbol's own strategy (name and params, or ensemble).",
    )

    @field_validator("symbols", mode="before")
    @classmethod
    def _override_names_a_strategy(cls, value: object) -> object:
        # An override with only `params` would silently take the default strategy's name.
        if isinstance(value, dict):
            for symbol, spec in value.items():
                check_symbol(str(symbol))
                if isinstance(spec, dict) and "name" not in spec and "ensemble" not in spec:
                    msg = (
                        f"{symbol}: name its strategy (`name: ...`) or give an `ensemble`; "
                        "an override does not inherit strategy.name"
                    )
                    raise ValueError(msg)
        return value

    def for_symbol(self, symbol: str) -> StrategySpec:
        """The strategy ``symbol`` trades with: its override, else this one."""
        return self.symbols.get(symbol, self)
