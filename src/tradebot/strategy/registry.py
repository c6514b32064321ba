"""Find a strategy by name or load the user's own from a file, and build it from parameters.

A spec is either a registered name (``ema_crossover``) or ``path/to/file.py:ClassName``.
Every failure is a ConfigError that says what was asked for and what is accepted, because
a strategy is chosen in the config file or on the command line, at startup.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TypeVar, cast

from tradebot.domain.errors import ConfigError
from tradebot.strategy.adaptive import AdaptiveStrategy
from tradebot.strategy.base import Strategy
from tradebot.strategy.builtin import Breakout, EmaCrossover, RsiMeanReversion
from tradebot.strategy.regime import REGIME_DETECTORS, RegimeDetector

_T = TypeVar("_T")

STRATEGIES: Mapping[str, type[Strategy]] = MappingProxyType(
    {cls.name: cls for cls in (EmaCrossover, RsiMeanReversion, Breakout, AdaptiveStrategy)}
)
"""The built-in strategies by name (read-only)."""

EXTRA_STRATEGIES: Mapping[str, str] = MappingProxyType({"ml": "tradebot.ml.strategy:MLStrategy"})
"""Strategies of the optional ``ml`` extra, by name: ``module:Class``, imported only when a
config names one (the core does not import ``tradebot.ml``, whose libraries are optional)."""

EXTRA_REGIME_DETECTORS: Mapping[str, str] = MappingProxyType(
    {"hmm": "tradebot.ml.regime:HmmRegime"}
)
"""Detectors of an optional extra, by name: ``module:Class``, imported only when a config
names one (the core does not import ``tradebot.ml``, whose libraries are optional)."""

REQUIRED: object = inspect.Parameter.empty
"""The value ``strategy_parameters`` gives a parameter that has no default."""


def strategy_parameters(cls: type[object]) -> dict[str, object]:
    """Map each keyword parameter of ``cls`` to its default (``REQUIRED`` when it has none)."""
    params = inspect.signature(cls).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def resolve_strategy(spec: str) -> type[Strategy]:
    """Return the class a spec names: a registered name or ``file.py:ClassName``.

    Raises:
        ConfigError: unknown name, missing file, class not found or not a Strategy.
    """
    if spec in STRATEGIES:
        return STRATEGIES[spec]
    if spec in EXTRA_STRATEGIES:
        return cast("type[Strategy]", _extra_class(f"strategy {spec!r}", EXTRA_STRATEGIES[spec]))
    path_text, sep, class_name = spec.rpartition(":")
    if not sep or not path_text.endswith(".py"):
        known = ", ".join(sorted([*STRATEGIES, *EXTRA_STRATEGIES]))
        msg = (
            f"unknown strategy {spec!r}: use one of {known},"
            " or path/to/file.py:ClassName for your own"
        )
        raise ConfigError(msg)
    module = load_module_file(Path(path_text))
    return _strategy_class(module, Path(path_text), class_name)


def create_strategy(spec: str, params: Mapping[str, object]) -> Strategy:
    """Build the strategy ``spec`` names with keyword ``params``.

    Raises:
        ConfigError: the spec cannot be resolved (see ``resolve_strategy``), a parameter is
            unknown or missing, or the strategy refused a value (its message is kept).
    """
    return _construct(f"strategy {spec!r}", resolve_strategy(spec), params)


def create_regime_detector(name: str, params: Mapping[str, object]) -> RegimeDetector:
    """Build the regime detector ``name`` (built-in, or the user's ``file.py:ClassName``, a
    ``RegimeDetector`` subclass) with keyword ``params``.

    Raises:
        ConfigError: unknown name, missing file or class, an unknown or missing parameter,
            or a refused value.
    """
    cls = REGIME_DETECTORS.get(name) or _extra_detector(name)
    path_text, sep, class_name = name.rpartition(":")
    if cls is None and sep and path_text.endswith(".py"):
        module = load_module_file(Path(path_text), "regime detector")
        where = "tradebot.strategy.regime.RegimeDetector"
        found = _class_in(module, Path(path_text), class_name, RegimeDetector, where)
        cls = cast("type[RegimeDetector]", found)
    if cls is None:
        known = ", ".join(sorted([*REGIME_DETECTORS, *EXTRA_REGIME_DETECTORS]))
        raise ConfigError(
            f"unknown regime detector {name!r}: use one of {known}, or path/to/file.py:ClassName"
        )
    return _construct(f"regime detector {name!r}", cls, params)


def _extra_detector(name: str) -> type[RegimeDetector] | None:
    # The class an extra's detector name stands for (None: not such a name).
    where = EXTRA_REGIME_DETECTORS.get(name)
    if where is None:
        return None
    return cast("type[RegimeDetector]", _extra_class(f"regime detector {name!r}", where))


def _extra_class(what: str, where: str) -> object:
    # Import ``module:Class`` of the ml extra on demand, saying how to install it if missing.
    module_name, _, class_name = where.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        msg = f"{what} needs the ml extra ({e.name} is missing): pip install 'tradebot[ml]'"
        raise ConfigError(msg) from e
    found: object = getattr(module, class_name)
    return found


def _construct(what: str, cls: type[_T], params: Mapping[str, object]) -> _T:
    # Build ``cls(**params)``, naming every parameter problem and what is accepted.
    accepted = strategy_parameters(cls)
    takes_any = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(cls).parameters.values()
    )
    unknown = sorted(set(params) - set(accepted))
    if unknown and not takes_any:
        msg = f"{what} has no parameter {', '.join(unknown)}; accepted: {_describe(accepted)}"
        raise ConfigError(msg)
    missing = sorted(k for k, v in accepted.items() if v is REQUIRED and k not in params)
    if missing:
        msg = f"{what} needs parameter {', '.join(missing)}"
        raise ConfigError(msg)
    try:
        return cls(**params)
    except (ValueError, TypeError) as e:
        msg = f"{what}: {e} (parameters: {_describe(accepted)})"
        raise ConfigError(msg) from e


def parse_params(items: Sequence[str]) -> dict[str, object]:
    """Parse ``k=v`` command-line items; values become int, float, bool or stay text.

    Raises:
        ConfigError: an item has no ``=`` or an empty name.
    """
    params: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            msg = f"--param {item!r} must look like name=value, e.g. fast_period=12"
            raise ConfigError(msg)
        params[key] = _parse_value(text.strip())
    return params


def _parse_value(text: str) -> object:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _describe(accepted: Mapping[str, object]) -> str:
    if not accepted:
        return "none"
    return ", ".join(
        name if default is REQUIRED else f"{name}={default!r}" for name, default in accepted.items()
    )


def load_module_file(path: Path, kind: str = "strategy") -> ModuleType:
    """Import the user's Python file at ``path`` (a strategy, or an optimisation objective).

    The module is registered in ``sys.modules`` under a name unique to its path, because
    dataclasses and pickling look a class's module up there; each call imports it afresh.
    ``kind`` names what the file holds, in messages.

    Raises:
        ConfigError: the file is missing, not a module, or raised while importing.
    """
    if not path.is_file():
        msg = f"{kind} file {str(path)!r} not found (resolved: {path.resolve()})"
        raise ConfigError(msg)
    resolved = path.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    module_name = f"tradebot_user_strategy_{resolved.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        msg = f"cannot import {kind} file {str(path)!r}: not a Python module"
        raise ConfigError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's file may raise anything; report it at startup
        del sys.modules[module_name]
        msg = f"{kind} file {str(path)!r} failed to import: {type(e).__name__}: {e}"
        raise ConfigError(msg) from e
    return module


def _strategy_class(module: ModuleType, path: Path, class_name: str) -> type[Strategy]:
    found = _class_in(module, path, class_name, Strategy, "tradebot.strategy.base.Strategy")
    return cast("type[Strategy]", found)


def _class_in(
    module: ModuleType, path: Path, class_name: str, base: type[object], where: str
) -> type[object]:
    # The concrete subclass of ``base`` named ``class_name`` in the user's file.
    kind = base.__name__
    found = getattr(module, class_name, None) if class_name else None
    if found is None:
        names = sorted(
            name
            for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, base) and obj is not base
        )
        msg = (
            f"{kind.lower()} file {str(path)!r} has no class {class_name!r};"
            f" {kind} classes in it: {', '.join(names) or 'none'}"
        )
        raise ConfigError(msg)
    if not (inspect.isclass(found) and issubclass(found, base)):
        msg = f"{class_name!r} in {str(path)!r} is not a {kind} subclass: subclass {where}"
        raise ConfigError(msg)
    if inspect.isabstract(found):
        missing = ", ".join(sorted(getattr(found, "__abstractmethods__", ())))
        msg = f"{kind.lower()} {class_name!r} in {str(path)!r} does not implement {missing}"
        raise ConfigError(msg)
    return found
