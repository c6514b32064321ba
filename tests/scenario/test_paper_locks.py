"""Protections in paper trading: a lock is saved, survives a restart, and `tradebot locks`
lists and lifts it (audited), on a real SQLite file and the sandbox over 127.0.0.1.

The quick EMA strategy trades every few bars; a cooldown of 500 bars after its first exit
keeps every later BUY from entering until a person lifts the lock.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from typer.testing import CliRunner

from paper_venue import make_bot, quick_config, replay, sandbox
from tradebot.cli import build_app
from tradebot.domain.decisions import SignalAction
from tradebot.domain.locks import Lock, utc_text
from tradebot.orchestrator.live import TradingBot
from tradebot.sandbox import SandboxServer

COOLDOWN = [{"method": "cooldown", "stop_duration_bars": 500}]


def locks_cli(db: Path, *args: str) -> str:
    result = CliRunner().invoke(build_app(), ["locks", *args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return result.output


def buys_since(bot: TradingBot, ts_ms: int) -> list[str]:
    """The actions of the BUY decisions saved at or after ``ts_ms``."""
    return [
        d.action for d in bot.repo.decisions(since_ms=ts_ms) if d.signal.action is SignalAction.BUY
    ]


async def test_paper_lock_survives_a_restart_and_tradebot_locks_lists_and_lifts_it(
    tmp_path: Path,
) -> None:
    config = quick_config(**{"risk.protections": COOLDOWN})
    async with sandbox() as server:
        # Arrange: a bot that closes one trade, which sets the cooldown lock
        bot = make_bot(server, tmp_path, config=config)
        try:
            await bot.start()
            while not bot.repo.trades():
                assert all(await replay(server, bot, 1))
        finally:
            await bot.close()
        (saved,) = bot.repo.locks()
        assert (saved.lock.symbol, saved.lock.protection) == ("BTC/USDT", "cooldown")
        # Act: restart on the same database, then trade on
        bot = make_bot(server, tmp_path, config=config)
        try:
            await bot.start()
            await check_restarted(server, bot, tmp_path / "bot.db", saved.lock)
        finally:
            await bot.close()


async def check_restarted(server: SandboxServer, bot: TradingBot, db: Path, lock: Lock) -> None:
    """The restarted bot keeps the lock until a person lifts it, then enters again."""
    restarted = server.now_ms
    await replay(server, bot, 20)
    # Assert: every BUY since the restart was refused for the saved lock
    refused = buys_since(bot, restarted)
    assert refused
    assert set(refused) == {"rejected"}
    last = [d for d in bot.repo.decisions(since_ms=restarted) if d.action == "rejected"][-1]
    assert last.verdict is not None
    assert last.verdict.reasons == (lock.describe(),)
    assert len(bot.repo.trades()) == 1
    listed = locks_cli(db)
    row = next(line for line in listed.splitlines() if "BTC/USDT" in line)
    assert [cell.strip() for cell in row.split("│")[1:5]] == [
        "BTC/USDT", "cooldown", utc_text(lock.until_ms)[:-4], "in force",
    ]  # fmt: skip
    # Act: lift it by hand while the bot runs
    lifted = locks_cli(db, "unlock", "BTC/USDT")
    # Assert: the lift is audited and the list is empty
    assert f"lifted 1: {lock.describe()}" in lifted
    audit = bot.repo.control_actions(limit=1)[0]
    assert (audit.action, audit.actor, audit.channel) == ("unlock", getpass.getuser(), "cli")
    assert audit.detail == f"unlock locks on BTC/USDT: {lock.describe()}"
    assert "no lock: every symbol may enter" in locks_cli(db)
    assert "lifted by" in locks_cli(db, "--all")
    # Act / Assert: the running bot enters again at its next BUY
    unlocked = server.now_ms
    await replay(server, bot, 20)
    assert buys_since(bot, unlocked)[0].startswith("buy")
