"""Parameter checks shared by the built-in strategies.

Strategy parameters arrive from YAML or ``--param k=v``, so a wrong type or range must stop
the bot with a message naming the parameter and the allowed range (the registry turns the
ValueError into a ConfigError).
"""

from __future__ import annotations

import math


def int_param(name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` as an int in ``[low, high]`` or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an integer in [{low}, {high}], got {value!r}"
        raise ValueError(msg)
    if not low <= value <= high:
        msg = f"{name} must be in [{low}, {high}], got {value}"
        raise ValueError(msg)
    return value


def float_param(name: str, value: object, low: float, high: float) -> float:
    """Return ``value`` as a float in ``[low, high]`` or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number in [{low:g}, {high:g}], got {value!r}"
        raise ValueError(msg)
    number = float(value)
    if math.isnan(number) or not low <= number <= high:
        msg = f"{name} must be in [{low:g}, {high:g}], got {number:g}"
        raise ValueError(msg)
    return number


MAX_PERIOD = 10_000
