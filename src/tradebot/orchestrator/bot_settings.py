"""What the paper/live shell (``TradingBot``) needs beyond the engine's own settings, and
the names of the moments of its cycle a checkpoint hook hears."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tradebot.orchestrator.continuity import DowntimePolicy

Checkpoint = Callable[[str], None]
CHECKPOINTS = (
    "bar_closed", "decision_saved", "intent_saved", "order_sent", "fill_booked", "fill_saved",
)  # fmt: skip
"""Named moments of the cycle a ``checkpoint`` hook is told about (crash tests stop there)."""


@dataclass(frozen=True, slots=True)
class BotSettings:
    """What the shell needs beyond the engine."""

    symbols: tuple[str, ...]
    """The markets traded, in the order each bar time decides them (the engine's order)."""
    timeframe: str
    window_bars: int = 400
    poll_interval_s: float = 5.0
    health_check_interval_s: float = 10.0
    """While the exchange is unreachable, the next look at it comes this soon (not a whole
    ``poll_interval_s`` later): ``downtime.health_check_interval_s``."""
    on_exchange_down: DowntimePolicy = DowntimePolicy.WAIT
    max_signal_age_bars: int = 1
    stream_candles: bool = False
    """Follow every symbol's candles on the venue's streams (``candle_feed.py``; one
    websocket for all with ``CcxtConnector``), asking REST only when they cannot vouch for
    the window. Off: the window is fetched over REST at every poll."""
