"""A weight-aware rate limiter whose budget is shared by every process of one account.

Binance counts request *weight* per minute (6000 by default) and orders per 10 seconds, and
answers an over-budget caller with 429, then with a 418 IP ban if it keeps calling. Several
bots on one key each keeping their own count is how accounts get banned, so the count lives
in a small state file under a runtime directory, named by a hash of the API key (never the
key), and every change to it happens under an exclusive ``fcntl`` lock.

The limiter counts what this host sends, adopts the server's own count from
``X-MBX-USED-WEIGHT-1M`` when that is higher (other programs on the IP), and after a 429/418
blocks every call of every sharing process until ``Retry-After`` (or the window end) passes.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tradebot.domain.errors import RateLimited

# Binance spot request weights of the endpoints this connector calls (API docs, 2024).
_WEIGHTS = {
    "fetch_time": 1,
    "load_markets": 20,
    "fetch_ohlcv": 2,
    "fetch_ticker": 2,
    "fetch_trades": 4,
    "fetch_balance": 20,
    "create_order": 1,
    "cancel_order": 1,
    "replace_order": 1,
    "fetch_order": 4,
    "fetch_open_orders": 6,
    "fetch_orders": 20,
    "fetch_my_trades": 20,
    "api_restrictions": 1,
}
_ALL_SYMBOLS_WEIGHT = 80  # ticker/24hr and openOrders without a symbol
_ORDER_CALLS = frozenset({"create_order", "replace_order"})
_MAX_STATE_BYTES = 4096


def request_weight(endpoint: str, *, limit: int | None = None, all_symbols: bool = False) -> int:
    """Return Binance's request weight for one call of ``endpoint`` (a connector method name)."""
    if endpoint == "fetch_order_book":
        depth = limit or 100
        return 5 if depth <= 100 else 25 if depth <= 500 else 50 if depth <= 1000 else 250
    if all_symbols and endpoint in ("fetch_ticker", "fetch_open_orders"):
        return _ALL_SYMBOLS_WEIGHT
    return _WEIGHTS.get(endpoint, 1)


@dataclass(frozen=True, slots=True)
class RateBudget:
    """The venue's limits and how much of them tradebot allows itself to use."""

    weight_per_window: int = 6000
    window_s: float = 60.0
    orders_per_window: int = 50
    order_window_s: float = 10.0
    safety: float = 0.8
    """Fraction of each limit tradebot may use; the rest absorbs other programs and skew."""

    @property
    def weight_cap(self) -> int:
        """Weight this host may spend per window."""
        return max(1, math.floor(self.weight_per_window * self.safety))

    @property
    def order_cap(self) -> int:
        """Orders this host may send per order window."""
        return max(1, math.floor(self.orders_per_window * self.safety))


@dataclass(slots=True)
class _State:
    window: int = 0
    used: int = 0
    order_window: int = 0
    orders: int = 0
    blocked_until: float = 0.0


def default_runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/tradebot`` or a per-user folder in the temp dir."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"tradebot-{os.getuid()}"


def account_key(api_key: str | None, venue: str = "binance") -> str:
    """A stable, non-reversible name for an account: a hash of the key, never the key."""
    digest = hashlib.sha256(f"{venue}:{api_key or 'public'}".encode()).hexdigest()
    return f"{venue}-{digest[:20]}"


class SharedRateLimiter:
    """Weight budget in a locked file, shared by all processes using the same account."""

    def __init__(
        self,
        path: Path,
        budget: RateBudget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Use (and create) the state file at ``path``; ``clock`` is wall time in seconds."""
        self.path = path
        self.budget = budget or RateBudget()
        self._clock = clock
        self._sleep = sleep
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600, exist_ok=True)
        self._seen = (-1, 0)
        """(window, used) as this limiter last read or wrote them."""

    @classmethod
    def for_account(
        cls, api_key: str | None, budget: RateBudget | None = None, runtime_dir: Path | None = None
    ) -> SharedRateLimiter:
        """The limiter every process with this API key shares on this host."""
        folder = runtime_dir or default_runtime_dir()
        return cls(folder / f"{account_key(api_key)}.ratelimit.json", budget)

    async def acquire(
        self, weight: int, *, endpoint: str = "", max_block_s: float = math.inf
    ) -> float:
        """Wait until ``weight`` fits the shared budget, then spend it; return seconds waited.

        Raises:
            RateLimited: calls are blocked (after a 429/418) for longer than ``max_block_s``;
                nothing is sent, and ``retry_after_s`` says when calls may resume.
        """
        waited = 0.0
        while True:
            wait, blocked = self._try_spend(weight, is_order=endpoint in _ORDER_CALLS)
            if wait <= 0:
                return waited
            if blocked and wait > max_block_s:
                raise RateLimited(
                    f"exchange calls are paused for {wait:.1f}s more after a rate-limit "
                    "response (shared by every bot on this API key)",
                    retry_after_s=wait,
                )
            waited += wait
            await self._sleep(wait)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Adopt the server's used-weight count when it is above ours."""
        used = _header_int(headers, "x-mbx-used-weight-1m")
        if used is None:
            return
        window, seen = self._seen
        if used <= seen and window == math.floor(self._clock() / self.budget.window_s):
            return  # the file's count only grows within a window: it holds this already
        with self._locked() as (state, _now):
            state.used = max(state.used, used)

    def block(self, seconds: float | None) -> float:
        """Stop every sharing process until ``seconds`` from now (None: until the window ends).

        Returns the absolute time (clock seconds) calls may resume.
        """
        with self._locked() as (state, now):
            window_end = (state.window + 1) * self.budget.window_s
            until = now + seconds if seconds else window_end
            state.blocked_until = max(state.blocked_until, until)
            return state.blocked_until

    def blocked_for(self) -> float:
        """Seconds until calls may resume (0 when not blocked)."""
        with self._locked() as (state, now):
            return max(0.0, state.blocked_until - now)

    def used_weight(self) -> int:
        """Weight spent in the current window, as far as this host knows."""
        with self._locked() as (state, _now):
            return state.used

    def _try_spend(self, weight: int, *, is_order: bool) -> tuple[float, bool]:
        # (seconds to wait, whether the wait is a 429/418 block rather than a full budget)
        budget = self.budget
        with self._locked() as (state, now):
            if state.blocked_until > now:
                return state.blocked_until - now, True
            if state.used + weight > budget.weight_cap and state.used > 0:
                return (state.window + 1) * budget.window_s - now + 0.001, False
            if is_order and state.orders + 1 > budget.order_cap:
                return (state.order_window + 1) * budget.order_window_s - now + 0.001, False
            state.used += weight
            state.orders += 1 if is_order else 0
            return 0.0, False

    @contextmanager
    def _locked(self) -> Iterator[tuple[_State, float]]:
        # A raw descriptor (no Python file object: a fifth of the cost), and the text is
        # rewritten in place and only when the count changed, padded with spaces to the
        # length it had, never cut: truncating costs tens of microseconds (emptying the file
        # first costs milliseconds on ext4, whose auto_da_alloc flushes a file that was
        # emptied and written again), and every exchange call passes here. JSON allows the
        # trailing spaces. A crash mid-write leaves a torn file, which ``_parse`` counts
        # afresh from, as before.
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._clock()
            raw = os.pread(fd, _MAX_STATE_BYTES, 0)
            state = self._parse(raw, now)
            yield state, now
            self._seen = (state.window, state.used)
            saved = _encode(state)
            if saved != raw.rstrip():
                os.pwrite(fd, saved.ljust(len(raw)), 0)
        finally:
            os.close(fd)  # releases the lock

    def _parse(self, raw: bytes, now: float) -> _State:
        state = _State()
        if raw.strip():
            try:
                state = _State(**json.loads(raw))
            except (ValueError, TypeError):
                state = _State()  # a torn or foreign file: start counting afresh
        window = math.floor(now / self.budget.window_s)
        if window != state.window:
            state.window, state.used = window, 0
        order_window = math.floor(now / self.budget.order_window_s)
        if order_window != state.order_window:
            state.order_window, state.orders = order_window, 0
        return state


def _encode(state: _State) -> bytes:
    return json.dumps(
        {
            "window": state.window,
            "used": state.used,
            "order_window": state.order_window,
            "orders": state.orders,
            "blocked_until": state.blocked_until,
        }
    ).encode()


def _header_int(headers: Mapping[str, str] | None, name: str) -> int | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            try:
                return int(value)
            except ValueError:
                return None
    return None
