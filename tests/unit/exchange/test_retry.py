"""Backoff with jitter for idempotent calls; non-transient errors are never retried."""

from __future__ import annotations

import random

import pytest

from tradebot.domain.errors import ExchangeUnavailable, InvalidOrder, RateLimited
from tradebot.exchange.ccxt.retry import RetryPolicy, call_with_retry


class Flaky:
    """Fails with the given errors, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def test_delay_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, jitter=0.0)
    rng = random.Random(1)

    assert [policy.delay_s(n, rng) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_delay_jitter_stays_within_fraction() -> None:
    policy = RetryPolicy(base_delay_s=2.0, jitter=0.5)
    rng = random.Random(7)

    delays = [policy.delay_s(1, rng) for _ in range(200)]

    assert min(delays) >= 1.0
    assert max(delays) <= 2.0
    assert len(set(delays)) > 100


async def test_call_with_retry_transient_errors_then_success_returns_result() -> None:
    flaky, sleeps = Flaky(ExchangeUnavailable("503"), ExchangeUnavailable("timeout")), Sleeps()

    result = await call_with_retry(flaky, RetryPolicy(jitter=0.0, base_delay_s=0.1), sleep=sleeps)

    assert result == "ok"
    assert flaky.calls == 3
    assert sleeps.delays == [0.1, 0.2]


async def test_call_with_retry_rate_limited_waits_retry_after() -> None:
    flaky, sleeps = Flaky(RateLimited("429", retry_after_s=3.0)), Sleeps()

    await call_with_retry(flaky, RetryPolicy(jitter=0.0, base_delay_s=0.1), sleep=sleeps)

    assert sleeps.delays == [3.0]


async def test_call_with_retry_order_rejection_not_retried() -> None:
    flaky = Flaky(InvalidOrder("below minimum"))

    with pytest.raises(InvalidOrder):
        await call_with_retry(flaky, RetryPolicy(), sleep=Sleeps())

    assert flaky.calls == 1


async def test_call_with_retry_gives_up_after_max_attempts() -> None:
    flaky = Flaky(*[ExchangeUnavailable(f"down {n}") for n in range(5)])

    with pytest.raises(ExchangeUnavailable, match="down 2"):
        await call_with_retry(flaky, RetryPolicy(max_attempts=3), sleep=Sleeps())

    assert flaky.calls == 3


async def test_call_with_retry_long_ban_not_waited_out() -> None:
    flaky, sleeps = Flaky(RateLimited("418", retry_after_s=120.0)), Sleeps()

    with pytest.raises(RateLimited):
        await call_with_retry(flaky, RetryPolicy(max_delay_s=20.0), sleep=sleeps)

    assert sleeps.delays == []
