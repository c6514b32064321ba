"""``risk.protections``: freqtrade's locks, as a list of rules each named by ``method``.

Each rule stops new entries for ``stop_duration_bars`` bars after the closed trades it
judges (exits and protective stops go on); see ``risk/protections.py``. A method may be
listed several times with different settings (a short and a long guard).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tradebot.config.base import Section

_MAX_BARS = 1_000_000


def _bars(description: str) -> int:
    # A required count of bars, >= 1. Returns a pydantic FieldInfo typed for the checker.
    result: int = Field(ge=1, le=_MAX_BARS, description=description)
    return result


class CooldownProtection(Section):
    """After any exit, the symbol opens nothing for ``stop_duration_bars`` bars."""

    method: Literal["cooldown"]
    stop_duration_bars: int = _bars("Bars without an entry, the exit's bar counted first.")


class StoplossGuardProtection(Section):
    """``trade_limit`` stop-losses within ``lookback_bars`` lock the symbol, or all."""

    method: Literal["stoploss_guard"]
    trade_limit: int = Field(ge=1, le=10_000, description="Stop-losses that set the lock.")
    lookback_bars: int = _bars("Bars the stop-losses are counted over.")
    stop_duration_bars: int = _bars("Bars the lock lasts, the last stop's bar counted first.")
    scope: Literal["symbol", "all"] = Field(
        default="symbol",
        description="symbol: count and lock each symbol's own; all: count all, lock all.",
    )


class MaxDrawdownProtection(Section):
    """A drawdown of realised equity within ``lookback_bars`` locks every symbol."""

    method: Literal["max_drawdown"]
    max_drawdown_pct: float = Field(
        gt=0, lt=1, description="Drawdown (fraction) of realised equity that sets the lock."
    )
    lookback_bars: int = _bars("Bars whose closed trades the drawdown is measured over.")
    stop_duration_bars: int = _bars("Bars the lock lasts, the exit's bar counted first.")
    trade_limit: int = Field(
        default=1, ge=1, le=10_000, description="Closed trades in the window needed to judge."
    )


ProtectionConfig = Annotated[
    CooldownProtection | StoplossGuardProtection | MaxDrawdownProtection,
    Field(discriminator="method"),
]
