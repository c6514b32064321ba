"""Settings a paper bot must act on (DESIGN rule 10), on the real path: the sandbox over
127.0.0.1, unmodified ccxt, a SQLite file.

Each test sets one key and checks what a trader would see: the orders the venue holds, the
decisions saved, the kill switch ``tradebot status`` shows.
"""

from __future__ import annotations

from pathlib import Path

from paper_venue import make_bot, quick_config, replay, sandbox, venue_orders
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
