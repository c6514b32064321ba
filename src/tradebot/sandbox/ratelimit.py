"""Request weight per client per minute, 429 past the limit, 418 bans for those who ignore it.

As on Binance: the weight used in the current minute comes back in ``X-MBX-USED-WEIGHT-1M``;
past the limit a request gets 429 with ``Retry-After``; a client that sends more than
``calls_before_ban`` requests before that time is up is banned with 418 for ``ban_s``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tradebot.sandbox.errors import ApiError

_WINDOW_S = 60.0


@dataclass(slots=True)
class _Client:
    anchor: float
    window: int = -1
    used: int = 0
    limited_until: float = 0.0
    strikes: int = 0
    banned_until: float = 0.0


class RateLimitError(ApiError):
    """A 429 or 418 refusal; ``retry_after_s`` goes in the ``Retry-After`` header."""

    def __init__(self, status: int, msg: str, retry_after_s: int, used: int) -> None:
        super().__init__(-1003, msg, status=status)
        self.retry_after_s = retry_after_s
        self.used = used


class RateLimiter:
    """Fixed one-minute weight windows per client key, counted from its first request."""

    def __init__(
        self, limit: int, calls_before_ban: int, ban_s: float, clock: Callable[[], float]
    ) -> None:
        self.limit = limit
        self.calls_before_ban = calls_before_ban
        self.ban_s = ban_s
        self._clock = clock
        self._clients: dict[str, _Client] = {}

    def charge(self, client: str, weight: int) -> int:
        """Add ``weight`` to the client's minute; return the weight used so far.

        Raises:
            RateLimitError: 429 over the limit, 418 while banned.
        """
        now = self._clock()
        state = self._clients.setdefault(client, _Client(anchor=now))
        window = int((now - state.anchor) // _WINDOW_S)
        if window != state.window:
            state.window, state.used = window, 0
        if now < state.banned_until:
            raise self._banned(state, now)
        if now < state.limited_until or state.used + weight > self.limit:
            return self._refuse(state, now, window)
        state.strikes = 0
        state.used += weight
        return state.used

    def _refuse(self, state: _Client, now: float, window: int) -> int:
        if now < state.limited_until:
            state.strikes += 1
            if state.strikes > self.calls_before_ban:
                state.banned_until = now + self.ban_s
                raise self._banned(state, now)
        else:
            state.limited_until = state.anchor + (window + 1) * _WINDOW_S
        retry = max(1, math.ceil(state.limited_until - now))
        raise RateLimitError(
            429,
            f"Too much request weight used; current limit is {self.limit} request weight per "
            "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
            retry,
            state.used,
        )

    def _banned(self, state: _Client, now: float) -> RateLimitError:
        until_ms = int(state.banned_until * 1000)
        return RateLimitError(
            418,
            f"Way too much request weight used; IP banned until {until_ms}. Please use "
            "WebSocket Streams for live updates to avoid bans.",
            max(1, math.ceil(state.banned_until - now)),
            state.used,
        )
