"""The bot process of the crash soak (bench/crash_soak.py starts it, and SIGKILLs it).

It builds a real ``TradingBot`` on a SQLite file, connects to the sandbox exchange running
in another process, restores and reconciles (``start``), prints one JSON line saying what it
found, waits for ``go`` on stdin (the soak checks database against exchange meanwhile), then
loops: advance the sandbox one bar (``POST /admin/advance``), run ``bot.poll()``.

``CRASH_AT=<checkpoint>:<n>`` arms the crash hook: at the n-th time the bot passes that
checkpoint (see ``tradebot.orchestrator.live.CHECKPOINTS``) the process SIGKILLs itself, so
the soak can stop it exactly between writing an intent and sending the order, or between a
fill and its record. Nothing in the bot is replaced; the hook only decides when to die.

    python bench/crash_driver.py --url http://127.0.0.1:PORT --db bot.db --config cfg.yaml \
        --runtime-dir DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import aiohttp

from tradebot.config import load_config
from tradebot.domain.market import Market
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.orchestrator.assembly import build_engine
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.live import BotSettings, TradingBot
from tradebot.orchestrator.paper import config_window
from tradebot.state import KillSwitchLevel, Repository, create_database

API_KEY, API_SECRET = "soak-key", "soak-secret"
_WEIGHT = 10_000_000


class CrashHook:
    """Count checkpoints; SIGKILL this process at the armed one."""

    def __init__(self, armed: str | None) -> None:
        self.point, self.at = None, 0
        if armed:
            point, _, nth = armed.partition(":")
            self.point, self.at = point, int(nth or "1")
        self.seen: Counter[str] = Counter()

    def __call__(self, name: str) -> None:
        self.seen[name] += 1
        if name == self.point and self.seen[name] >= self.at:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)


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

    def factory(market: Market, portfolio: Portfolio) -> TradingEngine:
        return build_engine(config, market, portfolio, record_holds=True)

    bot_settings = BotSettings(
        config.trading.symbol, config.trading.timeframe, window_bars=max(config_window(config), 50)
    )
    repo = Repository(create_database(f"sqlite:///{args.db}"))
    return TradingBot(factory, connector, repo, bot_settings, checkpoint=hook)


async def drive(args: argparse.Namespace) -> int:
    """Start (reconcile), report, wait for go, then trade bar by bar until told or killed."""
    hook = CrashHook(os.environ.get("CRASH_AT"))
    bot = build_bot(args, hook)
    try:
        recovery = await bot.start()
        engine = bot.engine
        position = engine.portfolio.position(engine.symbol)
        _emit(
            event="started",
            discrepancies=[str(d) for d in recovery.reconciliation.discrepancies],
            kinds=[d.kind.value for d in recovery.reconciliation.discrepancies],
            halted=bot.repo.kill_switch() is KillSwitchLevel.HALTED,
            cash=str(engine.portfolio.cash),
            qty=str(position.qty if position else 0),
            open_orders=sorted(o.client_order_id for o in engine.view.open_orders()),
        )
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            return 0
        async with aiohttp.ClientSession() as http:
            for _ in range(args.max_bars):
                async with http.post(f"{args.url}/admin/advance?bars=1") as resp:
                    if resp.status == 409:
                        _emit(event="end_of_data")
                        return 0
                await bot.poll()
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
    sys.exit(asyncio.run(drive(parser.parse_args())))


if __name__ == "__main__":
    main()
