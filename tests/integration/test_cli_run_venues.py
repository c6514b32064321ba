"""``tradebot run --mode paper`` trading two venues: two sandboxes (under the exchange ids
binance and binance_b) that the test moves bar by bar, one bot process over both. Its
database ends equal to both exchanges: every order and fill of each venue, under its venue."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tradebot.state import Repository, create_database
from tradebot.state.tables import FillRow, OrderRow
from venue_sandboxes import (
    VENUES,
    VENUES_YAML,
    advance_all,
    cycle_done,
    exchange_state,
    ports,
    venue_sandboxes,
)

CONFIG = (
    "exchange:\n  mode: paper\n"
    + VENUES_YAML
    + """\
trading: {{timeframe: 1h, cycle_interval_s: 1}}
strategy: {{params: {{fast_period: 3, slow_period: 8, rsi_threshold: 100}}}}
risk: {{stop_loss_method: fixed_pct, stop_loss_pct: 0.01, max_open_positions: 3}}
"""
)


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


async def until(check: Callable[[], bool], what: Callable[[], str], timeout_s: float = 60) -> None:
    """Wait (letting the sandboxes serve) until ``check()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what()
        await asyncio.sleep(0.05)


async def test_cli_run_paper_trades_two_venues_database_equal_to_both(tmp_path: Path) -> None:
    async with venue_sandboxes(tmp_path) as servers:
        # Arrange: the bot process over both sandboxes
        config = tmp_path / "venues.yaml"
        config.write_text(CONFIG.format(**ports(servers)))
        db, log = tmp_path / "bot.db", tmp_path / "bot.log"
        command = [
            sys.executable, "-c", "from tradebot.cli import main; main()",
            "run", "--mode", "paper", "-c", str(config), "--db", str(db),
        ]  # fmt: skip
        proc = start(command, log)
        try:
            await until(lambda: "trading BTC/USDT" in log.read_text(), log.read_text)
            repo = Repository(create_database(f"sqlite:///{db}"))
            # Act: 8 bars, each cycle over before the next bar
            for _ in range(8):
                ts = await advance_all(servers)
                await until(lambda: cycle_done(repo, ts), log.read_text)  # noqa: B023
            await asyncio.sleep(1.5)  # one more fill sync
            state = {v: await exchange_state(servers[v], v) for v in VENUES}
        finally:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 30)  # the sandboxes keep answering meanwhile
    # Assert: each venue's orders and fills are in the database under that venue
    with create_database(f"sqlite:///{db}").engine.connect() as conn:
        orders = conn.execute(select(OrderRow.client_order_id, OrderRow.venue)).all()
        fills = conn.execute(select(FillRow.trade_id, FillRow.venue)).all()
    for venue, (venue_orders, venue_fills) in state.items():
        assert venue_orders, f"{venue} traded"
        assert {cid for cid, v in orders if v == venue} == venue_orders
        assert {tid for tid, v in fills if v == venue} == venue_fills
