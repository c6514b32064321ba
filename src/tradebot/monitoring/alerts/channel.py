"""The Channel port: what the sender needs of Telegram, e-mail or any other way out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tradebot.state.outbox import Delivery


class Result(StrEnum):
    """How a channel answered one part."""

    DELIVERED = "delivered"
    RATE_LIMITED = "rate_limited"  # try again after ``retry_after_s``, exactly as asked
    TRANSIENT = "transient"  # network, timeout, 5xx: try again with back-off
    REFUSED = "refused"  # the channel will never take this message: give up, keep the row


@dataclass(frozen=True, slots=True)
class Outcome:
    """A channel's answer to one part."""

    result: Result
    error: str = ""
    retry_after_s: float = 0.0


DELIVERED = Outcome(Result.DELIVERED)


class Channel(Protocol):
    """A way to deliver alerts; the two implementations are Telegram and e-mail."""

    @property
    def name(self) -> str:
        """The channel's name in the outbox (``telegram``, ``email``)."""
        ...

    def parts(self, delivery: Delivery) -> list[str]:
        """The messages ``delivery`` becomes; the same every time (a restart resumes by index)."""
        ...

    async def send(self, part: str, delivery: Delivery) -> Outcome:
        """Deliver one part; never raises for the channel's own failures."""
        ...
