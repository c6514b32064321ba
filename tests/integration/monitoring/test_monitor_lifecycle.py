"""The monitor beside ``tradebot run``: a run that never said it stopped is alerted on the next
start; a clean stop is not; an error that ends the run is."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from telegram_standin import telegram_standin
from tradebot.cli import build_app
from tradebot.config import Config
from tradebot.monitoring.service import Monitor
from tradebot.state import create_database
from tradebot.state.outbox import AlertOutbox


def _monitor(db: Path) -> Monitor:
    return Monitor.build(Config(), create_database(db))


def test_monitor_killed_run_is_alerted_at_the_next_start_clean_stop_is_not(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    outbox = AlertOutbox(create_database(db))
    # A run that stops cleanly, then one that is killed (never reaches bot_stopped).
    first = _monitor(db)
    first.bot_starting()
    first.bot_stopped(None)
    _monitor(db).bot_starting()
    assert outbox.alert_count() == 0
    # Act: the next start.
    _monitor(db).bot_starting()
    # Assert
    (entry,) = outbox.alerts()
    assert entry.rule == "bot_stopped"
    assert entry.title == "Bot stopped unexpectedly"


def test_monitor_run_ending_on_an_error_is_alerted_with_the_error(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    monitor = _monitor(db)
    monitor.bot_starting()
    monitor.bot_stopped(RuntimeError("reconciliation <failed> & halted"))
    (entry,) = AlertOutbox(create_database(db)).alerts()
    assert entry.rule == "bot_stopped"
    assert entry.severity == "critical"
    _monitor(db).bot_starting()  # it said it stopped: no second alert
    assert AlertOutbox(create_database(db)).alert_count() == 1


async def test_monitor_run_delivers_and_answers_until_stopped(tmp_path: Path) -> None:
    # Arrange: the documented Telegram settings, pointed at the stand-in.
    db = tmp_path / "bot.db"
    with telegram_standin("77:lifecycle", "-5") as standin:
        monitoring = {
            "telegram_token": "77:lifecycle",
            "telegram_chat_id": "-5",
            "telegram_api_url": standin.url,
            "telegram_chats": {"-5": "viewer"},
            "telegram_users": {"8": "operator"},
            "alerts": {"check_interval_s": 0.05},
        }
        config = Config.model_validate({"monitoring": monitoring})
        monitor = Monitor.build(config, create_database(db))
        stop = asyncio.Event()
        monitor.bot_starting()
        monitor.bot_starting()  # as if the first run had been killed: one alert
        standin.push_message("-5", "8", "/stop")
        task = asyncio.create_task(monitor.run(stop))
        # Act
        for _ in range(200):
            if len(standin.messages) >= 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task
        await monitor.flush()
        await monitor.close()
    # Assert: the alert went out; the viewer-role chat caps the operator to viewer.
    texts = standin.texts()
    assert any("Bot stopped unexpectedly" in t for t in texts)
    assert any("needs the operator role" in t for t in texts)


def test_cli_monitor_without_a_bot_database_names_the_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["monitor", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert f"no bot database at {tmp_path / 'none.db'}" in result.output
