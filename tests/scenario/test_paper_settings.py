"""Settings a paper bot must act on (DESIGN rule 10), on the real path: the sandbox over
127.0.0.1, unmodified ccxt, a SQLite file.

Each test sets one key and checks what a trader would see: the orders the venue holds, the
decisions saved, the kill switch ``tradebot status`` shows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from paper_venue import (
    eventually,
    make_bot,
    quick_config,
    replay,
    sandbox,
    set_faults,
    venue_orders,
)
from tradebot.cli.run_session import bot_settings
from tradebot.domain.decisions import SignalAction
from tradebot.state import KillSwitchLevel


async def test_paper_config_kill_switch_halted_sends_no_entry(tmp_path: Path) -> None:
    # Arrange: the quick EMA strategy buys within a few dozen bars (it did, ignoring the
    # setting: each cycle took the saved switch, ACTIVE on a new database)
    config = quick_config(**{"risk.kill_switch": "halted"})
    async with sandbox() as server:
        bot = make_bot(server, tmp_path, config=config)
        try:
            await bot.start()
            # Act
            assert all(await replay(server, bot, 40))
        finally:
            await bot.close()
        orders = await venue_orders(server)
    # Assert: the strategy wanted in, the switch the config set kept it out
    buys = [d for d in bot.repo.decisions() if d.signal.action is SignalAction.BUY]
    assert buys
    assert {d.action for d in buys} == {"rejected"}
    assert orders == []
    assert bot.repo.trades() == []
    assert bot.repo.kill_switch() is KillSwitchLevel.HALTED
    assert "risk.kill_switch" in bot.repo.kill_switch_reason()


async def test_paper_exchange_down_is_looked_at_every_health_check_interval_then_halts(
    tmp_path: Path,
) -> None:
    # Arrange: a bot that decides once an hour, checks a down exchange every second, and
    # halts once it is back (the settings as `tradebot run` reads them: bot_settings)
    config = quick_config(
        **{
            "trading.cycle_interval_s": 3600,
            "downtime.health_check_interval_s": 1,
            "downtime.on_exchange_down": "halt",
        }
    )
    async with sandbox() as server:
        bot = make_bot(server, tmp_path, config=config, settings=bot_settings(config))
        await bot.start()
        await set_faults(server, maintenance_s=60.0)
        running = asyncio.create_task(bot.run())
        try:
            # Act: the exchange is down for two looks at it, then comes back
            await eventually(lambda: _true(bot.stats.errors >= 2), timeout_s=10)
            await set_faults(server, maintenance_s=0.0)
            # Assert: the bot notices within seconds, not at the next hourly cycle
            await eventually(lambda: _true(bot.downtime.outages == 1), timeout_s=10)
            assert bot.repo.kill_switch() is KillSwitchLevel.HALTED
            assert "halted by policy" in bot.repo.kill_switch_reason()
        finally:
            bot.stop()
            await running
            await bot.close()


async def _true(value: bool) -> bool:
    # ``eventually`` asks again at once: let the bot's task run between two asks.
    await asyncio.sleep(0.05)
    return value
