"""The monitor beside ``tradebot run``: a run that never said it stopped is alerted on the next
start; a clean stop is not; an error that ends the run is."""

from __future__ import annotations

from pathlib import Path

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
