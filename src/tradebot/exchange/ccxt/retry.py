"""Exponential backoff with jitter, for idempotent calls only.

Reads (tickers, candles, balances, order look-ups) and cancels are safe to repeat. Placing an
order is not: the connector never hands ``create_order`` to this helper, it runs its own
resolve-by-client-id loop (see ``connector.CcxtConnector.create_order``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tradebot.domain.errors import ExchangeUnavailable, RateLimited

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried."""

    max_attempts: int = 5
    base_delay_s: float = 0.25
    max_delay_s: float = 20.0
    jitter: float = 0.5
    """Fraction of each delay drawn at random, so that restarted bots do not retry in step."""

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (1-based): base·2^(attempt-1), capped, jittered."""
        capped = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return capped * (1 - self.jitter * rng.random())


def backoff_for(error: ExchangeUnavailable, delay_s: float) -> float:
    """Wait at least as long as the venue asked (``Retry-After``) before retrying."""
    if isinstance(error, RateLimited):
        return max(delay_s, error.retry_after_s)
    return delay_s


def gives_up(error: ExchangeUnavailable, attempt: int, policy: RetryPolicy) -> bool:
    """True when no retry should follow: attempts used up, or the venue asks for a long wait.

    A ban (418) or a 429 asking for more than ``max_delay_s`` is the caller's to handle: it
    gets ``RateLimited`` at once instead of a call that silently hangs for minutes.
    """
    if attempt >= policy.max_attempts:
        return True
    return isinstance(error, RateLimited) and error.retry_after_s > policy.max_delay_s


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: Callable[[int, ExchangeUnavailable], None] | None = None,
) -> T:
    """Run an idempotent ``call``, retrying ``ExchangeUnavailable`` (and ``RateLimited``).

    Every other error propagates at once, and so does a rate limit asking for a longer wait
    than ``policy.max_delay_s``.

    Raises:
        ExchangeUnavailable: the last transient failure, once attempts are exhausted.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    attempt = 1
    while True:
        try:
            return await call()
        except ExchangeUnavailable as error:
            if gives_up(error, attempt, policy):
                raise
            if on_retry is not None:
                on_retry(attempt, error)
            await sleep(backoff_for(error, policy.delay_s(attempt, rng)))
            attempt += 1
