"""The shared weight budget: per-window caps, server counts, 429 blocks, and two processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tradebot.domain.errors import RateLimited
from tradebot.exchange.ccxt.ratelimit import (
    RateBudget,
    SharedRateLimiter,
    account_key,
    request_weight,
)


class ManualClock:
    """Wall time that moves only when a test (or the limiter's sleep) moves it."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiter(path: Path, clock: ManualClock, **budget: float) -> SharedRateLimiter:
    return SharedRateLimiter(path, RateBudget(**budget), clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]


def test_request_weight_depth_grows_with_limit_and_all_symbols_cost_more() -> None:
    assert [request_weight("fetch_order_book", limit=n) for n in (20, 500, 1000, 5000)] == [
        5,
        25,
        50,
        250,
    ]
    assert request_weight("fetch_open_orders", all_symbols=True) == 80
    assert request_weight("fetch_open_orders") == 6


def test_account_key_never_contains_the_api_key() -> None:
    name = account_key("my-very-secret-api-key")

    assert "secret" not in name
    assert name == account_key("my-very-secret-api-key")
    assert name != account_key("another-key")


async def test_acquire_over_cap_waits_for_next_window(tmp_path: Path) -> None:
    clock = ManualClock(1_000.0)  # window [960, 1020)
    limiter = _limiter(tmp_path / "rl.json", clock, weight_per_window=100, safety=1.0)

    # Act
    for _ in range(5):
        await limiter.acquire(20)
    waited = await limiter.acquire(20)

    # Assert
    assert waited == pytest.approx(20.001)
    assert clock.now == pytest.approx(1020.001)
    assert limiter.used_weight() == 20


async def test_observe_server_count_above_ours_is_adopted(tmp_path: Path) -> None:
    clock = ManualClock(1_000.0)
    limiter = _limiter(tmp_path / "rl.json", clock, weight_per_window=100, safety=1.0)
    await limiter.acquire(1)

    limiter.observe({"X-MBX-USED-WEIGHT-1M": "95", "Content-Type": "application/json"})

    assert limiter.used_weight() == 95
    assert await limiter.acquire(10) > 0


async def test_observe_server_count_below_the_shared_count_keeps_the_shared_count(
    tmp_path: Path,
) -> None:
    # Arrange: this limiter saw 10; another process on the key has spent 30 more since
    clock = ManualClock(1_000.0)
    mine = _limiter(tmp_path / "rl.json", clock, weight_per_window=100, safety=1.0)
    other = _limiter(tmp_path / "rl.json", clock, weight_per_window=100, safety=1.0)
    await mine.acquire(10)
    await other.acquire(30)

    # Act: the server's count is older than both (5), then above both (55)
    mine.observe({"x-mbx-used-weight-1m": "5"})
    kept = other.used_weight()
    mine.observe({"x-mbx-used-weight-1m": "55"})

    # Assert
    assert kept == 40
    assert other.used_weight() == 55


async def test_block_after_429_stops_every_limiter_on_the_file(tmp_path: Path) -> None:
    clock = ManualClock(1_000.0)
    first = _limiter(tmp_path / "rl.json", clock)
    second = _limiter(tmp_path / "rl.json", clock)

    first.block(7.5)
    waited = await second.acquire(1)

    assert waited == pytest.approx(7.5)


async def test_block_without_retry_after_lasts_until_window_end(tmp_path: Path) -> None:
    clock = ManualClock(1_000.0)
    limiter = _limiter(tmp_path / "rl.json", clock)

    until = limiter.block(None)

    assert until == pytest.approx(1020.0)


async def test_acquire_orders_capped_per_ten_seconds(tmp_path: Path) -> None:
    clock = ManualClock(1_000.0)
    limiter = _limiter(tmp_path / "rl.json", clock, orders_per_window=5, safety=1.0)

    waits = [await limiter.acquire(1, endpoint="create_order") for _ in range(6)]

    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(10.001)


def test_limiter_corrupt_state_file_restarts_count(tmp_path: Path) -> None:
    path = tmp_path / "rl.json"
    path.write_text("{not json", encoding="utf-8")
    limiter = _limiter(path, ManualClock())

    assert limiter.used_weight() == 0


async def test_limiter_file_count_shrinking_in_a_new_window_is_read_back_exactly(
    tmp_path: Path,
) -> None:
    # Arrange: a long count in one window (the file is rewritten in place, not emptied first)
    path, clock = tmp_path / "rl.json", ManualClock(1_000.0)
    limiter = _limiter(path, clock, weight_per_window=100_000, safety=1.0)
    await limiter.acquire(12_345)

    # Act: the next window's shorter count
    clock.now += 60
    await limiter.acquire(7)

    # Assert: no tail of the longer text is left behind
    assert json.loads(path.read_text(encoding="utf-8"))["used"] == 7
    assert _limiter(path, clock).used_weight() == 7


_WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from tradebot.exchange.ccxt.ratelimit import RateBudget, SharedRateLimiter

    async def main() -> None:
        # Each call is stamped with the clock the limiter read when it counted the call (a
        # stamp taken after acquire returns can fall in the next window on a loaded machine).
        read = [0.0]
        def clock() -> float:
            read[0] = time.time()
            return read[0]
        limiter = SharedRateLimiter(
            Path(sys.argv[1]),
            RateBudget(weight_per_window=20, window_s=0.5, safety=1.0),
            clock=clock,
        )
        time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # both start together
        stamps = []
        for _ in range(15):
            await limiter.acquire(1)
            stamps.append(read[0])
        print(json.dumps(stamps))

    asyncio.run(main())
    """
)


def test_limiter_two_processes_on_one_key_share_one_budget(tmp_path: Path) -> None:
    # Arrange: each process alone would spend 15 of a 20-per-window budget at once; both
    # start at the same window's beginning, after their imports
    path = tmp_path / f"{account_key('shared-key')}.json"
    start_at = (int(time.time() / 0.5) + 8) * 0.5
    args = [sys.executable, "-c", _WORKER, str(path), str(start_at)]

    # Act
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=30)[0] for p in procs]

    # Assert: no window ever saw more than 20 calls in total, so someone waited
    stamps = [t for out in outputs for t in json.loads(out)]
    per_window: dict[int, int] = {}
    for t in stamps:
        per_window[int(t // 0.5)] = per_window.get(int(t // 0.5), 0) + 1
    assert len(stamps) == 30
    assert max(per_window.values()) <= 20
    assert len(per_window) >= 2


async def test_acquire_during_long_block_raises_rate_limited_without_waiting(
    tmp_path: Path,
) -> None:
    clock = ManualClock(1_000.0)
    limiter = _limiter(tmp_path / "rl.json", clock)
    limiter.block(90.0)

    with pytest.raises(RateLimited, match=r"paused for 90\.0s"):
        await limiter.acquire(1, max_block_s=20.0)

    assert clock.slept == []
