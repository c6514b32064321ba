"""Keys of the bot's control state and the graded kill switch they hold.

The control state is a small key/value table so that what must survive a restart (is
trading halted, which bar was processed last, the equity the UTC day started with) is read
back exactly as it was left.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tradebot.domain.decisions import KillSwitch

KILL_SWITCH = "kill_switch"
KILL_SWITCH_REASON = "kill_switch_reason"


KillSwitchLevel = KillSwitch
"""The kill switch as saved: the domain's own levels (the name is kept for callers)."""


def utc_day(ts_ms: int) -> str:
    """The UTC calendar day of ``ts_ms`` as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).date().isoformat()


def last_bar_key(symbol: str, timeframe: str) -> str:
    """Key of the last processed bar's open time for ``symbol`` at ``timeframe``."""
    return f"last_bar_ts:{symbol}:{timeframe}"


def day_start_equity_key(ts_ms: int) -> str:
    """Key of the equity at the start of the UTC day containing ``ts_ms``."""
    return f"day_start_equity:{utc_day(ts_ms)}"
