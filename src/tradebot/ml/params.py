"""``MLStrategy``'s ``features``, ``label`` and ``model`` as written in ``strategy.params``.

A config holds only numbers, text and true/false, so each has a text form; a value that is
not one is refused here, naming ``params.<field>``, the value and what is accepted, rather
than reaching the strategy as text and failing later on a traceback (or being ignored).
"""

from __future__ import annotations

import re

from tradebot.domain.errors import ConfigError
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec

FEATURE_FORMS = "ret_<bars>, vol_<bars>, volume_<bars>, rsi_<bars>"
LABEL_FORM = "a horizon in bars (12) or 'horizon_bars=<bars>[,threshold=<x>][,barrier=<x>]'"
_FEATURE = re.compile(r"^(ret|vol|volume|rsi)_(\d+)$")
_LABEL_KEYS = ("horizon_bars", "threshold", "barrier")


def _refuse(field: str, value: object, accepted: str, why: str = "") -> ConfigError:
    detail = f" ({why})" if why else ""
    return ConfigError(f"params.{field}: {value!r} is refused{detail}; accepted: {accepted}")


def features_param(value: object) -> FeatureSpec:
    """``'ret_1,vol_12,rsi_14'``: the feature names, comma separated (see ``FeatureSpec``).

    Raises:
        ConfigError: not text, an unknown name, or lookbacks ``FeatureSpec`` refuses.
    """
    if not isinstance(value, str):
        raise _refuse("features", value, FEATURE_FORMS, "comma-separated names")
    families: dict[str, list[int]] = {"ret": [], "vol": [], "volume": [], "rsi": []}
    for name in (part.strip() for part in value.split(",")):
        match = _FEATURE.match(name)
        if match is None:
            raise _refuse("features", value, FEATURE_FORMS, f"unknown feature {name!r}")
        families[match[1]].append(int(match[2]))
    try:
        return FeatureSpec(*(tuple(bars) for bars in families.values()))
    except ValueError as exc:
        raise _refuse("features", value, FEATURE_FORMS, str(exc)) from exc


def label_param(value: object) -> LabelSpec:
    """``12`` (the horizon in bars) or ``'horizon_bars=12,threshold=0.001,barrier=0.02'``.

    Raises:
        ConfigError: another form, an unknown key, a value that is not a number, or values
            ``LabelSpec`` refuses.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"horizon_bars={value}"
    if not isinstance(value, str):
        raise _refuse("label", value, LABEL_FORM)
    given: dict[str, float] = {}
    for item in (part.strip() for part in value.split(",")):
        key, sep, number = (s.strip() for s in item.partition("="))
        if not sep or key not in _LABEL_KEYS or key in given:
            raise _refuse("label", value, LABEL_FORM, f"cannot read {item!r}")
        try:
            given[key] = float(number)
        except ValueError as exc:
            raise _refuse("label", value, LABEL_FORM, f"{key} is not a number") from exc
    horizon = given.get("horizon_bars", 12.0)
    if horizon != int(horizon):
        raise _refuse("label", value, LABEL_FORM, "horizon_bars is a whole number of bars")
    try:
        return LabelSpec(int(horizon), given.get("threshold", 0.0), given.get("barrier"))
    except ValueError as exc:
        raise _refuse("label", value, LABEL_FORM, str(exc)) from exc


def model_param(value: object) -> ModelSpec:
    """A model kind by name (``random_forest``); its trees and seed keep their defaults.

    Raises:
        ConfigError: not one of the ``ModelKind`` names.
    """
    kinds = ", ".join(kind.value for kind in ModelKind)
    if not isinstance(value, str) or value not in set(ModelKind):
        raise _refuse("model", value, kinds)
    return ModelSpec(ModelKind(value))
