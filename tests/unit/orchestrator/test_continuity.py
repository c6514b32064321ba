"""The downtime policy and the UTC day's loss survive an outage and a restart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from factories import ScriptedStrategy, make_candles, make_engine
from tradebot.domain.decisions import KillSwitch
from tradebot.domain.events import BarClosed, DayRestored
from tradebot.orchestrator.continuity import (
    FLATTEN_REQUEST,
    DowntimeGuard,
    DowntimePolicy,
    restore_day,
    save_day,
)
from tradebot.orchestrator.engine import DAY_MS
from tradebot.state.db import create_database
from tradebot.state.repository import Repository


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository(create_database(tmp_path / "state.db"))


def test_downtime_guard_no_outage_applies_nothing(repo: Repository) -> None:
    guard = DowntimeGuard(DowntimePolicy.HALT)
    assert guard.on_success(repo) is None
    assert repo.kill_switch() is KillSwitch.ACTIVE


def test_downtime_guard_halt_policy_after_outage_halts_trading(repo: Repository) -> None:
    # Arrange
    guard = DowntimeGuard(DowntimePolicy.HALT)
    guard.on_failure()
    guard.on_failure()
    # Act
    applied = guard.on_success(repo)
    # Assert
    assert applied is DowntimePolicy.HALT
    assert repo.kill_switch() is KillSwitch.HALTED
    assert "exchange was down" in repo.kill_switch_reason()
    assert guard.outages == 1
    assert guard.on_success(repo) is None  # only once per outage


def test_downtime_guard_flatten_policy_requests_flatten_and_halts(repo: Repository) -> None:
    guard = DowntimeGuard(DowntimePolicy.FLATTEN_ON_RECOVERY)
    guard.on_failure()
    assert guard.on_success(repo) is DowntimePolicy.FLATTEN_ON_RECOVERY
    assert repo.get_control(FLATTEN_REQUEST) == "1"
    assert repo.kill_switch() is KillSwitch.HALTED


def test_downtime_guard_wait_policy_resumes_trading(repo: Repository) -> None:
    guard = DowntimeGuard(DowntimePolicy.WAIT)
    guard.on_failure()
    assert guard.on_success(repo) is DowntimePolicy.WAIT
    assert repo.kill_switch() is KillSwitch.ACTIVE
    assert repo.get_control(FLATTEN_REQUEST) is None


def test_day_start_equity_saved_then_restored_into_a_new_engine(repo: Repository) -> None:
    # Arrange: an engine that has lived through a bar of a new UTC day
    engine, _ = make_engine(ScriptedStrategy(buy_bars=(), sell_bars=()))
    candles = make_candles(30, seed=3)
    bars = engine.prepare(candles)
    engine.handle(BarClosed(engine.symbol, int(bars.ts_ms[5]), 5))
    engine.handle(DayRestored(engine.utc_day, Decimal("9500")))  # as if the day had started lower
    # Act
    saved_day = save_day(engine, repo, saved_day=-1)
    restarted, _ = make_engine(ScriptedStrategy(buy_bars=(), sell_bars=()))
    last_close_ms = int(bars.ts_ms[5]) + 3_600_000
    restore_day(restarted, repo, last_close_ms)
    # Assert: the restarted engine keeps counting today's loss from 9,500, not from now
    assert saved_day == engine.utc_day
    assert restarted.utc_day == (last_close_ms - 1) // DAY_MS
    assert restarted.day_start_equity == Decimal("9500")


def test_save_day_same_day_writes_nothing_new(repo: Repository) -> None:
    engine, _ = make_engine(ScriptedStrategy(buy_bars=(), sell_bars=()))
    bars = engine.prepare(make_candles(10, seed=1))
    engine.handle(BarClosed(engine.symbol, int(bars.ts_ms[1]), 1))
    day = save_day(engine, repo, saved_day=-1)
    engine.handle(DayRestored(day, Decimal("1")))  # changed in memory only
    assert save_day(engine, repo, saved_day=day) == day
    assert repo.day_start_equity(day * DAY_MS) == Decimal(10_000)
