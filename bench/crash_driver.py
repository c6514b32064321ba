"""The bot process of the crash soak (bench/crash_soak.py starts it, and SIGKILLs it).

Like ``tradebot run`` it first takes the database's instance lock (one bot per database),
then builds a real ``TradingBot`` on the SQLite file, connects to the sandbox exchange
running in another process, restores and reconciles (``start``), prints one JSON line saying
what it found, waits for ``go`` on stdin (the soak checks database against exchange
meanwhile), then loops as the live loop does: advance the sandbox one bar
(``POST /admin/advance``), run ``bot.step()`` (a failed cycle is logged and retried).

After its first completed cycle, and after the first completed cycle that follows an
injected database failure, it prints a ``cycle`` line and waits for ``go`` again: the soak
checks that the position held on the exchange is covered by a stop, at a moment when the
bot says its cycle is done. While the bot still holds steps it could not save it keeps
pausing after each completed cycle, until the database has them.

``CRASH_AT=<checkpoint>:<n>`` arms the crash hook: at the n-th time the bot passes that
checkpoint (see ``tradebot.orchestrator.bot_settings.CHECKPOINTS``) the process SIGKILLs itself, so
the soak can stop it exactly between writing an intent and sending the order, or between a
fill and its record. ``DB_LOCK_AT=<checkpoint>:<n>[,<n>...]`` injects a database write
failure at those passes: a second connection holds SQLite's write lock (``BEGIN
EXCLUSIVE``) for longer than the bot's busy timeout, so the bot's next save fails as it
would on a lock held too long, then lets go. Nothing in the bot is replaced; the hooks only
decide when to die and when to lock.

    python bench/crash_driver.py --url http://127.0.0.1:PORT --db bot.db --config cfg.yaml \
        --runtime-dir DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import aiohttp

from tradebot.config import load_config
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.paper import config_window
from tradebot.state import KillSwitchLevel, Repository, acquire_instance_lock, create_database
from tradebot.state.db import SQLITE_BUSY_TIMEOUT_MS

API_KEY, API_SECRET = "soak-key", "soak-secret"
_WEIGHT = 10_000_000
LOCK_HOLD_S = SQLITE_BUSY_TIMEOUT_MS / 1000 + 2.0
"""How long an injected lock is held: past the bot's busy timeout (the production default;
there is no knob to lower it), yet short enough for the cycle's next save to get through."""


def _armed(spec: str | None) -> tuple[str | None, set[int]]:
    # "<checkpoint>:<n>[,<n>...]" -> (checkpoint, {n, ...})
    if not spec:
        return None, set()
    point, _, nths = spec.partition(":")
    return point, {int(n) for n in (nths or "1").split(",")}


class DbLock:
    """Hold SQLite's write lock from a second connection for a while, in a thread."""

    def __init__(self, db: Path, hold_s: float) -> None:
        self.db, self.hold_s = db, hold_s
        self.injected = 0

    def inject(self) -> None:
        """Return once the lock is held; it is let go ``hold_s`` seconds later."""
        held = threading.Event()
        threading.Thread(target=self._hold, args=(held,), daemon=True).start()
        if not held.wait(30):
            raise RuntimeError(f"could not lock {self.db} to inject a write failure")
        self.injected += 1
        _emit(event="db_locked", hold_s=self.hold_s)

    def _hold(self, held: threading.Event) -> None:
        link = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        try:
            link.execute("BEGIN EXCLUSIVE")
            held.set()
            time.sleep(self.hold_s)
            link.execute("ROLLBACK")
        finally:
            link.close()


class CrashHook:
    """Count checkpoints; SIGKILL this process at the armed one, lock the database at others."""

    def __init__(self, armed: str | None, lock_at: str | None = None, lock: DbLock | None = None):
        self.point, crash_at = _armed(armed)
        self.at = min(crash_at, default=0)
        self.lock_point, self.lock_at = _armed(lock_at)
        self.lock = lock
        self.seen: Counter[str] = Counter()

    def __call__(self, name: str) -> None:
        self.seen[name] += 1
        if name == self.point and self.seen[name] >= self.at:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        if self.lock and name == self.lock_point and self.seen[name] in self.lock_at:
            self.lock.inject()

    @property
    def injected(self) -> int:
        """Database write failures injected so far."""
        return self.lock.injected if self.lock else 0


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def build_bot(args: argparse.Namespace, hook: CrashHook) -> TradingBot:
    """A bot on the soak's database, talking ccxt to the sandbox process."""
    config = load_config(args.config)
    settings = ConnectSettings(
        venue=Venue.SANDBOX,
        sandbox_url=args.url,
        websockets=False,
        budget=RateBudget(weight_per_window=_WEIGHT, orders_per_window=_WEIGHT),
        retry=RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2),
        runtime_dir=args.runtime_dir,
    )
    connector = connect(settings, Credentials(API_KEY, API_SECRET))

    factory = engine_factory(config)

    bot_settings = BotSettings(
        tuple(config.trading.all_symbols),
        config.trading.timeframe,
        window_bars=max(config_window(config), 50),
    )
    repo = Repository(create_database(f"sqlite:///{args.db}"))
    return TradingBot(factory, connector, repo, bot_settings, checkpoint=hook)


def _view(bot: TradingBot) -> dict[str, object]:
    # What the bot holds in memory, for the soak to compare with the exchange: every
    # symbol's position held (flat ones left out, as the referee leaves them), the cash of all.
    engine = bot.engine
    held = {s: engine.view.held_qty(s) for s in engine.symbols}
    return {
        "halted": bot.repo.kill_switch() is KillSwitchLevel.HALTED,
        "cash": str(engine.portfolio.cash),
        "qty": {s: str(qty) for s, qty in held.items() if qty},
        "open_orders": sorted(o.client_order_id for o in engine.view.open_orders()),
        "unsaved": len(bot.writer.unsaved),
    }


async def _go() -> bool:
    line: str = await asyncio.to_thread(sys.stdin.readline)
    return line.strip() == "go"


async def drive(args: argparse.Namespace) -> int:
    """Start (reconcile), report, wait for go, then trade bar by bar until told or killed."""
    lock = DbLock(args.db, LOCK_HOLD_S)
    hook = CrashHook(os.environ.get("CRASH_AT"), os.environ.get("DB_LOCK_AT"), lock)
    bot = build_bot(args, hook)
    try:
        recovery = await bot.start()
        _emit(
            event="started",
            discrepancies=[str(d) for d in recovery.reconciliation.discrepancies],
            kinds=[d.kind.value for d in recovery.reconciliation.discrepancies],
            **_view(bot),
        )
        if not await _go():
            return 0
        pause = True  # after the first completed cycle of this life
        async with aiohttp.ClientSession() as http:
            for _ in range(args.max_bars):
                async with http.post(f"{args.url}/admin/advance?bars=1") as resp:
                    if resp.status == 409:
                        _emit(event="end_of_data")
                        return 0
                cycles, injected = bot.stats.cycles, hook.injected
                if not await bot.step():
                    _emit(event="cycle_failed")
                pause = pause or hook.injected > injected
                if pause and bot.stats.cycles > cycles:
                    _emit(event="cycle", **_view(bot))
                    pause = bool(bot.writer.unsaved)  # again once the database has it all
                    if not await _go():
                        return 0
        _emit(event="done", cycles=bot.stats.cycles, errors=bot.stats.errors)
        return 0
    finally:
        await bot.close()


def main() -> None:
    """Parse the arguments and drive."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--runtime-dir", type=Path, required=True)
    parser.add_argument("--max-bars", type=int, default=100_000)
    args = parser.parse_args()
    with acquire_instance_lock(args.db):  # as `tradebot run` does: one bot per database
        code = asyncio.run(drive(args))
    sys.exit(code)


if __name__ == "__main__":
    main()
