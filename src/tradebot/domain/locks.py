"""Locks: a protection's word that a symbol (or every symbol) opens nothing new for a while.

A protection (``risk/protections.py``: a cooldown after an exit, too many stop-losses, a
drawdown) answers a closed trade with a lock. A lock blocks new entries only: exits and
protective stops go on. Time is bar time, never the wall clock: a lock blocks the decisions
of every bar that opens before ``until_ms``, so the bar opening at ``until_ms`` may enter
again (decided at its close). Locks are saved by the live shell and handed back to the
engine at a restart, so a restart never forgets one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

ALL_SYMBOLS: Final = "*"
"""The ``symbol`` of a lock on every symbol."""


def utc_text(ts_ms: int) -> str:
    """``ts_ms`` as ``2024-01-01 05:00 UTC`` (what decision records and tables show)."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class Lock:
    """No new entry on ``symbol`` (``ALL_SYMBOLS``: on any) on bars opening before
    ``until_ms``; set by ``protection`` at ``ts_ms`` (the closing trade's exit) for ``reason``."""

    symbol: str
    until_ms: int
    protection: str
    reason: str
    ts_ms: int

    def blocks(self, symbol: str, bar_ts_ms: int) -> bool:
        """True when this lock keeps ``symbol`` from entering on the bar opened at
        ``bar_ts_ms``."""
        return bar_ts_ms < self.until_ms and self.symbol in (symbol, ALL_SYMBOLS)

    @property
    def subject(self) -> str:
        """What is locked, in words."""
        return "all symbols" if self.symbol == ALL_SYMBOLS else self.symbol

    def describe(self) -> str:
        """The lock as a decision record states it: which, on what, until when, why."""
        return (
            f"{self.protection} locks {self.subject} until {utc_text(self.until_ms)}: {self.reason}"
        )
