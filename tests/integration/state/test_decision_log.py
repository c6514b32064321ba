"""The decision log: exact round trips, and append-only in the API and in the database."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tradebot.domain.decisions import (
    Decision,
    MemberSignal,
    RiskCheck,
    RiskVerdict,
    Signal,
    SignalAction,
)
from tradebot.state.db import Database
from tradebot.state.decision_log import DecisionLog
from tradebot.state.repository import Repository
from tradebot.state.transaction import StateTransaction


def make_decision(ts_ms: int, symbol: str = "BTC/USDT", rsi: float = 61.25) -> Decision:
    return Decision(
        ts_ms=ts_ms,
        symbol=symbol,
        signal=Signal(
            SignalAction.BUY,
            confidence=0.8125,
            reason="fast SMA crossed above slow SMA",
            metadata={"fast": 10, "slow": 30.5, "regime": "trend", "confirmed": True, "x": None},
        ),
        indicators={"sma_fast": 97123.45678901234, "rsi": rsi, "atr": 1234.5},
        verdict=RiskVerdict(
            (
                RiskCheck("max_exposure", True, "exposure 14.7% <= 50%"),
                RiskCheck("daily_loss", True, "day PnL -0.4% > -3%"),
            )
        ),
        action="EXECUTED",
        client_order_ids=("tb-1733011200000-BTCUSDT-buy",),
        equity=10001.123456789,
        cash=9854.1,
        position_qty=0.0015,
    )


def test_append_decision_round_trip_is_exact(database: Database) -> None:
    # Arrange
    repo = Repository(database, now_ms=lambda: 1_733_011_262_500)
    decision = make_decision(1_733_011_200_000)
    held = Decision(1_733_011_260_000, "ETH/USDT", Signal.hold(), {}, None, "HELD")
    # Act
    ids = [repo.append_decision(decision), repo.append_decision(held)]
    entries = repo.decision_entries()
    # Assert
    assert ids == [1, 2]
    assert repo.decisions() == [decision, held]
    assert [e.id for e in entries] == [1, 2]
    assert entries[0].recorded_ts_ms == 1_733_011_262_500


def test_append_decision_keeps_warming_up_indicators_as_nan(repo: Repository) -> None:
    repo.append_decision(make_decision(1_733_011_200_000, rsi=math.nan))
    (loaded,) = repo.decisions()
    assert math.isnan(loaded.indicators["rsi"])
    assert loaded.indicators["sma_fast"] == 97123.45678901234


def test_decisions_filters_by_time_and_symbol(repo: Repository) -> None:
    for ts_ms, symbol in [(1_000, "BTC/USDT"), (2_000, "ETH/USDT"), (3_000, "BTC/USDT")]:
        repo.append_decision(make_decision(ts_ms, symbol))
    assert [d.ts_ms for d in repo.decisions(since_ms=2_000)] == [2_000, 3_000]
    assert [d.ts_ms for d in repo.decisions(symbol="BTC/USDT")] == [1_000, 3_000]


def test_decision_log_api_offers_append_and_read_only() -> None:
    public = {name for name in dir(DecisionLog) if not name.startswith("_")}
    writers = {name for name in dir(StateTransaction) if "decision" in name}
    readers = {name for name in dir(Repository) if "decision" in name}
    changers = ("update", "delete", "remove", "replace", "set", "edit", "write")
    assert "append" in public
    assert [name for name in public if name.startswith(changers)] == []
    assert writers == {"append_decision"}
    assert [name for name in readers - {"append_decision"} if name.startswith(changers)] == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE decisions SET action = 'REWRITTEN'", "DELETE FROM decisions"],
    ids=["update", "delete"],
)
def test_decisions_table_refuses_update_and_delete(
    repo: Repository, database: Database, statement: str
) -> None:
    # Arrange
    repo.append_decision(make_decision(1_733_011_200_000))
    # Act
    with pytest.raises(DBAPIError, match="decisions are append-only"), database.session() as s:
        s.execute(text(statement))
    # Assert
    assert [d.action for d in repo.decisions()] == ["EXECUTED"]


def test_latest_decisions_pages_newest_first_and_skips_holds_on_request(repo: Repository) -> None:
    # Arrange: five decisions, the third one acted
    for i in range(5):
        decision = make_decision(1_000 + i)
        if i != 2:
            decision = replace(decision, action="hold")
        repo.append_decision(decision)
    # Act
    first = repo.latest_decisions(2)
    second = repo.latest_decisions(2, before_id=first[-1].id)
    acted = repo.latest_decisions(10, acted_only=True)
    # Assert
    assert [e.decision.ts_ms for e in first] == [1_004, 1_003]
    assert [e.decision.ts_ms for e in second] == [1_002, 1_001]
    assert [e.decision.ts_ms for e in acted] == [1_002]
    assert repo.decision_entry(acted[0].id) == acted[0]
    assert repo.decision_entry(999) is None


def test_append_decision_keeps_ensemble_members_apart_from_metadata(repo: Repository) -> None:
    members = (
        MemberSignal("ema_crossover", SignalAction.BUY, 0.8, "golden cross"),
        MemberSignal("breakout", SignalAction.HOLD, 0.0, "no signal"),
        MemberSignal("rsi_mean_reversion", SignalAction.BUY, math.nan, "up through 30"),
    )
    decision = replace(
        make_decision(1_733_011_200_000),
        signal=Signal(SignalAction.BUY, 2 / 3, "2 of 3 say BUY", {"regime": "trend"}, members),
    )

    repo.append_decision(decision)

    (back,) = repo.decisions()
    assert back.signal.members[:2] == members[:2]
    assert math.isnan(back.signal.members[2].confidence)
    assert back.signal.metadata == {"regime": "trend"}
