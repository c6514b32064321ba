"""Fault injection: the coin flips and windows behind 5xx, hangs, maintenance and crashes."""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import StrEnum

from tradebot.sandbox.config import FaultConfig
from tradebot.sandbox.errors import ApiError


class Fault(StrEnum):
    """What the sandbox does to one REST request instead of answering it normally."""

    NONE = "none"
    ERROR = "error"
    TIMEOUT = "timeout"


class FaultInjector:
    """Draws faults from a seeded generator so a failing run can be replayed."""

    def __init__(self, config: FaultConfig, seed: int, clock: Callable[[], float]) -> None:
        self.config = config
        self._rng = random.Random(seed)  # noqa: S311 (fault dice, not cryptography)
        self._clock = clock
        self.maintenance_until = clock() + config.maintenance_s if config.maintenance_s else 0.0

    def update(self, changes: dict[str, object]) -> None:
        """Apply admin changes; ``maintenance_s`` starts a window from now.

        Raises:
            ValueError: unknown field or bad value.
        """
        self.config.update(changes)
        if "maintenance_s" in changes:
            self.maintenance_until = self._clock() + self.config.maintenance_s

    def check_maintenance(self) -> None:
        """Refuse every request during a maintenance window (503, ccxt OnMaintenance).

        Raises:
            ApiError: 503 -1000 "System is under maintenance.".
        """
        if self._clock() < self.maintenance_until:
            raise ApiError(-1000, "System is under maintenance.", status=503)

    def draw(self) -> Fault:
        """Pick the fault for one request (most requests get none)."""
        roll = self._rng.random()
        if roll < self.config.error_rate:
            return Fault.ERROR
        if roll < self.config.error_rate + self.config.timeout_rate:
            return Fault.TIMEOUT
        return Fault.NONE

    def draw_ambiguous(self) -> bool:
        """True when an executed order's response should never arrive."""
        return self._rng.random() < self.config.ambiguous_timeout_rate


def internal_error() -> ApiError:
    """Binance's answer when its backend failed before processing (503 -1001)."""
    return ApiError(
        -1001, "Internal error; unable to process your request. Please try again.", status=503
    )
