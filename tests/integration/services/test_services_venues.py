"""The services over two venues: one ``tradebot serve market-data`` process per venue, one
strategy, one execution trading both sandboxes through its venue router, over a real
redis-server. The execution's database ends equal to both exchanges, each row under its
venue, and every symbol of both venues is decided at every bar."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from redis_server import RedisServer
from tradebot.state import Repository, create_database
from tradebot.state.tables import DecisionRow, FillRow, OrderRow
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
services:
  bus: {{url: "redis://127.0.0.1:{redis_port}/0", password: "${{TEST_REDIS_PASSWORD}}",
         prefix: {prefix}}}
  market_data: {{poll_interval_s: 0.2, websocket: false}}
  execution: {{sync_interval_s: 1}}
"""
)
BARS = 8


def serve(args: list[str], log: Path, password: str) -> subprocess.Popen[bytes]:
    """``tradebot serve ...`` as a process writing to ``log``."""
    command = [sys.executable, "-c", "from tradebot.cli import main; main()", "serve", *args]
    env = {**os.environ, "TEST_REDIS_PASSWORD": password, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


async def stopped(proc: subprocess.Popen[bytes]) -> None:
    """Wait for a SIGTERMed service to end (a cycle in flight finishes first); kill it after
    15 s, as a service manager would."""
    try:
        await asyncio.to_thread(proc.wait, 15)
    except subprocess.TimeoutExpired:
        proc.kill()
        await asyncio.to_thread(proc.wait, 15)


async def until(check: Callable[[], bool], what: Callable[[], str], timeout_s: float = 90) -> None:
    """Wait (letting the sandboxes serve) until ``check()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what()
        await asyncio.sleep(0.05)


async def test_services_two_market_data_one_execution_over_two_venues(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with venue_sandboxes(tmp_path) as servers:
        # Arrange: the four services as processes over both sandboxes
        prefix = f"v{uuid.uuid4().hex[:8]}"
        config = tmp_path / "services.yaml"
        config.write_text(
            CONFIG.format(**ports(servers), redis_port=redis_server.port, prefix=prefix)
        )
        db = tmp_path / "services.db"
        c = ["--config", str(config)]
        commands = {
            "execution": ["execution", *c, "--db", str(db), "--name", "execution-1"],
            "strategy": ["strategy", *c, "--name", "strategy-1"],
            **{f"market-data-{v}": ["market-data", *c, "--venue", v] for v in VENUES},
        }
        procs = {
            name: serve(args, tmp_path / f"{name}.log", redis_server.password)
            for name, args in commands.items()
        }

        def logs() -> str:
            return "\n".join(
                f"--- {n}\n{(tmp_path / f'{n}.log').read_text()[-2000:]}" for n in procs
            )

        try:
            await until(lambda: "execution serving as" in logs(), logs)
            repo = Repository(create_database(f"sqlite:///{db}"))
            # Act: bar by bar, each cycle over (its orders sent) before the next bar
            for _ in range(BARS):
                ts = await advance_all(servers)
                await until(lambda: cycle_done(repo, ts), logs)  # noqa: B023
            await asyncio.sleep(1.5)  # one more sync of fills by the execution
            state = {v: await exchange_state(servers[v], v) for v in VENUES}
            alive = {n for n, p in procs.items() if p.poll() is None}
        finally:
            for proc in procs.values():
                proc.send_signal(signal.SIGTERM)
            for proc in procs.values():  # the sandboxes keep answering meanwhile
                await stopped(proc)
    # Assert: every service stayed up; each venue's orders and fills in the database under
    # that venue; every symbol of both venues decided at every bar
    assert alive == set(procs), logs()
    with create_database(f"sqlite:///{db}").engine.connect() as conn:
        orders = conn.execute(select(OrderRow.client_order_id, OrderRow.venue)).all()
        fills = conn.execute(select(FillRow.trade_id, FillRow.venue)).all()
        decisions = conn.execute(select(DecisionRow.symbol, DecisionRow.venue)).all()
    for venue, (venue_orders, venue_fills) in state.items():
        assert venue_orders, f"{venue} traded"
        assert {cid for cid, v in orders if v == venue} == venue_orders
        assert {tid for tid, v in fills if v == venue} == venue_fills
    for venue, symbols in VENUES.items():
        for symbol in symbols:
            assert decisions.count((symbol, venue)) == BARS
