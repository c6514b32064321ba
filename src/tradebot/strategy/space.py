"""Parameter spaces a strategy declares beside its defaults, for ``tradebot optimize``.

A parameter is searchable when its ``__init__`` annotation carries a dimension::

    def __init__(self, fast_period: Annotated[int, IntRange(3, 40)] = 12) -> None: ...

so the range lives next to the default it varies, in the strategy's own file, and nothing
else has to be kept in step with the signature. The optimiser (``tradebot.research``) turns
the dimensions into Optuna distributions; this module knows nothing of Optuna.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tradebot.domain.errors import ConfigError

ChoiceValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class IntRange:
    """Integers ``low..high`` (inclusive) in steps of ``step``; ``log`` samples evenly in log."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, self.log)
        if self.step < 1 or (self.log and self.step != 1):
            msg = f"IntRange step must be >= 1 (and 1 with log), got {self.step}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class FloatRange:
    """Numbers in ``[low, high]``; ``step`` makes them discrete, ``log`` samples in log."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, self.log)
        if self.step is not None and (self.step <= 0 or self.log):
            msg = f"FloatRange step must be > 0 and not combined with log, got {self.step}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a fixed list of values (a categorical parameter)."""

    options: tuple[ChoiceValue, ...]

    def __post_init__(self) -> None:
        if not self.options:
            msg = "Choice needs at least one option"
            raise ValueError(msg)


Dimension = IntRange | FloatRange | Choice
SearchSpace = Mapping[str, Dimension]


def _check_range(low: float, high: float, log: bool) -> None:
    if low > high:
        msg = f"range low {low} is above high {high}"
        raise ValueError(msg)
    if log and low <= 0:
        msg = f"a log range needs low > 0, got {low}"
        raise ValueError(msg)


def declared_space(cls: type) -> dict[str, Dimension]:
    """The dimensions ``cls.__init__`` declares, by parameter name, in signature order.

    Raises:
        ConfigError: an annotation cannot be resolved (a name the module does not import).
    """
    try:
        init = next(vars(k)["__init__"] for k in cls.__mro__ if "__init__" in vars(k))
        hints = typing.get_type_hints(init, include_extras=True)
    except NameError as e:
        msg = f"strategy {cls.__name__}: cannot read its parameter annotations: {e}"
        raise ConfigError(msg) from e
    space: dict[str, Dimension] = {}
    for name in inspect.signature(cls).parameters:
        hint = hints.get(name)
        if hint is None or typing.get_origin(hint) is not typing.Annotated:
            continue
        dims = [m for m in hint.__metadata__ if isinstance(m, IntRange | FloatRange | Choice)]
        if dims:
            space[name] = dims[0]
    return space


def parse_dimension(text: str) -> Dimension:
    """Read a command-line range: ``5:50`` (int), ``0.5:3.0`` (float), ``1e-3:1:log``,
    ``10:200:10`` (a step) or ``a,b,c`` (a choice).

    Raises:
        ConfigError: the text is none of these forms, or the range is empty.
    """
    try:
        if ":" not in text:
            return Choice(tuple(_choice_value(part.strip()) for part in text.split(",")))
        parts = text.split(":")
        log = parts[-1] == "log"
        if log:
            parts = parts[:-1]
        if len(parts) not in (2, 3):
            raise ValueError(text)
        numbers = [_number(p) for p in parts]
        if all(isinstance(n, int) for n in numbers):
            ints = [int(n) for n in numbers]
            return IntRange(ints[0], ints[1], ints[2] if len(ints) == 3 else 1, log)
        step = float(numbers[2]) if len(numbers) == 3 else None
        return FloatRange(float(numbers[0]), float(numbers[1]), step, log)
    except ValueError as e:
        msg = (
            f"parameter range {text!r}: use low:high (5:50, 0.5:3.0), low:high:step, "
            f"low:high:log, or a,b,c for a choice ({e})"
        )
        raise ConfigError(msg) from e


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _choice_value(text: str) -> ChoiceValue:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return _number(text)
    except ValueError:
        return text


def describe(dimension: Dimension) -> str:
    """Short text of a dimension for tables: ``3..40``, ``1e-3..1 (log)``, ``{a, b}``."""
    if isinstance(dimension, Choice):
        return "{" + ", ".join(str(o) for o in dimension.options) + "}"
    text = f"{dimension.low:g}..{dimension.high:g}"
    if dimension.step not in (None, 1):
        text += f" step {dimension.step:g}"
    return text + (" (log)" if dimension.log else "")


def space_for(
    cls: type, fixed: Sequence[str], overrides: Mapping[str, Dimension]
) -> dict[str, Dimension]:
    """The space to search: the declared one with ``overrides`` applied, less ``fixed`` names.

    A strategy taking ``**params`` (``AdaptiveStrategy``: ``trend.fast_period``) checks
    the names itself when built, so any override name is searched.

    Raises:
        ConfigError: an override names a parameter the strategy does not take or one held
            fixed, or nothing is left to search.
    """
    signature = inspect.signature(cls).parameters
    accepted = set(signature)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())
    unknown = [] if takes_any else sorted(set(overrides) - accepted)
    if unknown:
        msg = (
            f"strategy {cls.__name__} has no parameter {', '.join(unknown)};"
            f" accepted: {', '.join(sorted(accepted)) or 'none'}"
        )
        raise ConfigError(msg)
    both = sorted(set(overrides) & set(fixed))
    if both:
        msg = (
            f"{', '.join(both)}: both held fixed (-p) and given a range (--space); drop one of them"
        )
        raise ConfigError(msg)
    space = {**declared_space(cls), **overrides}
    space = {k: v for k, v in space.items() if k not in set(fixed)}
    if not space:
        msg = (
            f"strategy {cls.__name__} declares no parameter space to search: annotate its "
            "parameters (fast: Annotated[int, IntRange(3, 40)] = 12) or give --space name=lo:hi"
        )
        raise ConfigError(msg)
    return space
