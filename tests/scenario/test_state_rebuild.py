"""A lost database on an account with history: refused, rebuilt from the venue, trading again.

A paper bot trades a sandbox (in this process) until it holds a position with its stop
resting; then its database is "lost" (a new, zero-byte file). ``tradebot run`` — a real
process — must refuse to start blind and leave the file untouched; ``tradebot state
rebuild`` must rebuild it without sending anything; after that the bot starts with nothing
to reconcile and trades on, its database equal to the exchange.
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from processes import NO_KEYS
from tradebot.cli import build_app
from tradebot.config import load_config, with_overrides
from tradebot.data.load import sample_path
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.paper import PaperSetup, paper_session
from tradebot.sandbox import SandboxServer
from tradebot.state import KillSwitchLevel, Repository, create_database

SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
KEY, SECRET = "sandbox-key", "sandbox-secret"  # what a non-embedded paper bot sends
OVERRIDES: dict[str, object] = {
    "strategy.params": {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100},
    "risk.stop_loss_method": "fixed_pct",
}
CONFIG = """exchange:
  mode: paper
  sandbox: {{embedded: false, port: {port}}}
strategy:
  params: {{fast_period: 3, slow_period: 8, rsi_threshold: 100}}
risk:
  stop_loss_method: fixed_pct
trading:
  cycle_interval_s: 1
"""


async def tradebot(*args: str) -> tuple[int, str]:
    """Run the ``tradebot`` CLI as a real process; its exit code and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from tradebot.cli import main; main()", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **NO_KEYS, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    output = ""
    try:
        async with asyncio.timeout(60):
            while line := (await proc.stdout.readline()).decode():
                output += line
            return await proc.wait(), output
    finally:
        if proc.returncode is None:  # it overran: no process outlives the test
            proc.kill()
            await proc.wait()


def open_ids(orders: list[object]) -> list[str]:
    return sorted(str(getattr(o, "client_order_id", "")) for o in orders)


async def trade_until_a_position_rests(session_bot: TradingBot, server: SandboxServer) -> None:
    for _ in range(600):
        await server.advance(1)
        await session_bot.poll()
        if len(session_bot.repo.trades()) >= 2 and session_bot.repo.open_orders():
            return
    raise AssertionError("the bot never held a protected position after two trades")


def bot_on(server: SandboxServer, db: Path) -> TradingBot:
    """The bot as ``tradebot run`` builds it, on ``db``, trading the shared sandbox."""
    config = with_overrides(load_config(None), OVERRIDES, "test")
    settings = ConnectSettings(
        venue=Venue.SANDBOX,
        sandbox_url=server.http_url,
        websockets=False,
        budget=RateBudget(weight_per_window=10_000_000, orders_per_window=10_000_000),
    )

    build = engine_factory(config)

    return TradingBot(
        build,
        connect(settings, Credentials(KEY, SECRET)),
        Repository(create_database(db)),
        BotSettings(("BTC/USDT",), "1h", window_bars=50),
    )


async def test_lost_database_is_refused_then_rebuilt_from_the_venue_then_trades(
    tmp_path: Path,
) -> None:
    # Arrange: a bot with history and a resting stop on a sandbox account
    config = with_overrides(load_config(None), OVERRIDES, "test")
    first = tmp_path / "first.db"
    setup = PaperSetup(
        {"BTC/USDT": SAMPLE}, database_url=str(first), api_key=KEY, api_secret=SECRET
    )
    async with paper_session(config, setup) as session:
        server, old = session.server, session.bot
        await trade_until_a_position_rests(old, server)
        venue = server.venue.engine
        orders_before, trades_before = len(venue.orders), len(venue.trades)
        cfg = tmp_path / "config.yaml"
        cfg.write_text(CONFIG.format(port=server.http_url.rsplit(":", 1)[1]), encoding="utf-8")
        lost = tmp_path / "bot.db"
        lost.write_bytes(b"")  # the database is lost: an empty file where it was
        # Act 1: start on the empty database
        code, output = await tradebot("run", "-c", str(cfg), "--db", str(lost))
        # Assert 1: refused, naming the file and the way out; the file untouched
        text = " ".join(output.split())
        assert code == 2, output
        assert str(lost) in text
        assert "tradebot state rebuild" in text
        assert "Traceback" not in output
        assert lost.stat().st_size == 0
        # Act 2: rebuild it from the venue (the CLI in a thread: the sandbox runs on this loop)
        rebuild = ["state", "rebuild", "-c", str(cfg), "--db", str(lost)]
        result = await asyncio.to_thread(CliRunner().invoke, build_app(), rebuild, env=NO_KEYS)
        code, output = result.exit_code, result.output
        # Assert 2: the venue's state, and nothing sent
        assert code == 0, output
        assert "Nothing was sent" in output
        assert (len(venue.orders), len(venue.trades)) == (orders_before, trades_before)
        rebuilt = Repository(create_database(lost))
        working = await old.connector.fetch_open_orders("BTC/USDT")
        assert open_ids(rebuilt.open_orders()) == open_ids(working) != []
        held = (await old.connector.fetch_balance())["BTC"].total
        assert [p.position.qty for p in rebuilt.positions()] == [held]
        assert held > Decimal(0)
        assert len(rebuilt.trades()) >= 1
        # Act 3: start again and trade 60 bars
        bot = bot_on(server, lost)
        try:
            recovery = await bot.start()
            fills_before = len(rebuilt.fills())
            for _ in range(60):
                await server.advance(1)
                await bot.poll()
            working = await bot.connector.fetch_open_orders("BTC/USDT")
            held = (await bot.connector.fetch_balance())["BTC"].total
        finally:
            await bot.close()
    # Assert 3: nothing to reconcile, trading on, the database equal to the exchange
    assert list(recovery.reconciliation.discrepancies) == []
    assert rebuilt.kill_switch() is KillSwitchLevel.ACTIVE
    assert bot.stats.errors == 0
    assert len(rebuilt.fills()) > fills_before, "it traded after the rebuild"
    assert open_ids(rebuilt.open_orders()) == open_ids(working)
    saved = {p.position.symbol: p.position.qty for p in rebuilt.positions()}
    assert saved.get("BTC/USDT", Decimal(0)) == held
