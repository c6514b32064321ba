"""A backtest keeps its decisions and fills packed (``backtest/packed.py``) and hands back
the very decisions and fills the engine made: every field, in order, read by index, slice or
iteration."""

from __future__ import annotations

import pickle
import tracemalloc
from dataclasses import fields
from decimal import Decimal

import numpy as np
import pytest

from factories import make_engine, random_walk_candles
from tradebot.backtest import packed
from tradebot.backtest.packed import Packed, packed_decisions, packed_fills
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.runner import Backtester
from tradebot.domain.commands import Step
from tradebot.domain.decisions import (
    Decision,
    MemberSignal,
    RiskCheck,
    RiskVerdict,
    Signal,
    SignalAction,
)
from tradebot.domain.events import BarClosed, Event, OrderFilled
from tradebot.domain.orders import Fill, OrderSide
from tradebot.risk.stops import StopMethod, StopParams
from tradebot.strategy.builtin.ema_crossover import EmaCrossover


def _backtest_with_its_records() -> tuple[list[Decision], list[Fill], BacktestResult]:
    """A backtest trading every EMA cross (with an ATR stop) on 6,000 random 1m bars, and
    the decisions the engine returned as it went (those the backtest keeps: not holds) and
    the fills the venue reported."""
    made: list[Decision] = []
    filled: list[Fill] = []

    def seen(_bar: int, event: Event, step: Step) -> None:
        d = step.decision
        kept = d is not None and (d.signal.action is not SignalAction.HOLD or d.action != "hold")
        if isinstance(event, BarClosed) and kept:
            made.append(d)
        if isinstance(event, OrderFilled):
            filled.append(event.fill)

    strategy = EmaCrossover(fast_period=5, slow_period=20, rsi_threshold=100.0)
    engine, exchange = make_engine(strategy, stops=StopParams(StopMethod.ATR))
    result = Backtester(engine, exchange, observer=seen).run(random_walk_candles(6_000))
    assert isinstance(result.decisions, Packed)
    assert isinstance(result.fills, Packed)
    return made, filled, result


def test_a_backtest_hands_back_every_decision_the_engine_made_field_for_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: chunks of 100 decisions, so the run's ~380 fill several.
    monkeypatch.setattr(packed, "CHUNK", 100)

    # Act
    made, filled, result = _backtest_with_its_records()
    kept = result.decisions

    # Assert: several packed chunks and a part-filled one, read every way.
    assert len(made) > 2 * packed.CHUNK
    assert len(kept) == len(made)
    assert list(kept) == made
    assert kept == made
    assert made == kept
    assert [kept[i] for i in (0, packed.CHUNK, -1, -packed.CHUNK - 1)] == [
        made[i] for i in (0, packed.CHUNK, -1, -packed.CHUNK - 1)
    ]
    assert kept[packed.CHUNK - 2 : packed.CHUNK + 2] == made[packed.CHUNK - 2 : packed.CHUNK + 2]
    assert [dict(d.indicators) for d in kept] == [dict(d.indicators) for d in made]
    assert pickle.loads(pickle.dumps(kept)) == made
    assert len(filled) > packed.CHUNK
    assert result.fills == filled
    assert list(result.fills) == filled
    assert result.fills[-1] == filled[-1]


def test_packed_records_hold_under_half_the_memory_of_the_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: chunks of 64, so nearly all of the run's ~380 decisions are pickled.
    made, filled, _ = _backtest_with_its_records()
    monkeypatch.setattr(packed, "CHUNK", 64)

    # Act: what the packed decisions hold, then what the same decisions hold as objects.
    tracemalloc.start()
    try:
        kept = packed_decisions()
        for d in made:
            kept.append(d)
        packed_bytes, _ = tracemalloc.get_traced_memory()
        again = list(kept)
        object_bytes = tracemalloc.get_traced_memory()[0] - packed_bytes
        del again
        before, _ = tracemalloc.get_traced_memory()
        fills = packed_fills()
        for f in filled:
            fills.append(f)
        packed_fill_bytes = tracemalloc.get_traced_memory()[0] - before
        fills_again = list(fills)
        fill_object_bytes = tracemalloc.get_traced_memory()[0] - before - packed_fill_bytes
    finally:
        tracemalloc.stop()

    # Assert
    assert list(kept) == made
    assert packed_bytes < object_bytes / 2
    assert fills_again == filled
    assert packed_fill_bytes < fill_object_bytes / 2


def test_every_field_of_a_decision_survives_packing() -> None:
    # Arrange: what the other test's run never makes: an ensemble's members, no verdict,
    # indicators as a plain dict, a skipped bar.
    ensemble = Decision(
        1,
        "ETH/USDT",
        Signal(
            SignalAction.BUY,
            0.5,
            "2 of 3 members",
            {"votes": 2, "regime": "trend", "sure": True, "none": None},
            (MemberSignal("a", SignalAction.BUY, 0.9, "up"), MemberSignal("b", SignalAction.HOLD)),
        ),
        {"close": 101.5, "rsi": 55.0},
        RiskVerdict(
            (
                RiskCheck("kill_switch", False, "kill switch HALTED"),
                RiskCheck.lazy("max_position_size", True, "position {:.2f}", Decimal("9.876")),
            )
        ),
        "refused",
        ("id-1", "id-2"),
        10.5,
        9.5,
        0.25,
    )
    decisions = [ensemble, Decision.skipped(2, "BTC/USDT", "bar too old", (1.0, 2.0, 3.0))]

    # Act
    kept = packed_decisions()
    for d in decisions:
        kept.append(d)

    # Assert: a field added to Decision must be packed too (this list names those packed).
    assert [f.name for f in fields(Decision)] == [
        "ts_ms", "symbol", "signal", "indicators", "verdict", "action",
        "client_order_ids", "equity", "cash", "position_qty",
    ]  # fmt: skip
    assert [f.name for f in fields(Signal)] == [
        "action",
        "confidence",
        "reason",
        "metadata",
        "members",
    ]
    lazy = kept[0].verdict.checks[1] if kept[0].verdict else None
    assert lazy is not None
    assert lazy.parts()[3] == (Decimal("9.876"),)  # still unformatted: formatted when read
    assert lazy.detail == "position 9.88"
    assert list(kept) == decisions
    assert kept[0].signal.members == ensemble.signal.members
    assert kept[1].verdict is None


def test_packed_decimals_come_back_with_their_digits_and_exponent() -> None:
    # Arrange: Decimals equal to others with fewer digits (0.23450 == 0.2345), an exponent,
    # a negative zero; a lazy check's values mixing Decimals and text.
    amounts = [Decimal("0.23450"), Decimal("1E+5"), Decimal("-0"), Decimal("42577.520")]
    fills = packed_fills()
    for k, qty in enumerate(amounts):
        fills.append(Fill("id", "BTC/USDT", OrderSide.SELL, qty, qty, qty, "USDT", k, str(k)))
    check = RiskCheck.lazy("max_position_size", True, "{} {} {}", *amounts[:2], "<=")
    decisions = packed_decisions()
    decisions.append(
        Decision(
            1, "BTC/USDT", Signal(SignalAction.BUY, 1.0, "up"), {}, RiskVerdict((check,)), "buy"
        )
    )

    # Act
    kept_fills, kept = list(fills), decisions[0]

    # Assert: the same text, not only equal values.
    assert [(str(f.qty), str(f.price), str(f.fee)) for f in kept_fills] == [
        (str(q), str(q), str(q)) for q in amounts
    ]
    assert kept.verdict is not None
    parts = kept.verdict.checks[0].parts()
    assert [str(v) for v in parts[3] or ()] == ["0.23450", "1E+5", "<="]
    assert [type(v) for v in parts[3] or ()] == [Decimal, Decimal, str]
    assert kept.verdict.checks[0].detail == "0.23450 1E+5 <="


def test_a_chunk_holding_a_value_of_no_plain_type_comes_back_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: chunks of two; a strategy's metadata holding a numpy number and an enum in
    # the second chunk, plain values in the first (chunks are written with marshal, which
    # keeps only plain types: the second must be written another way)
    monkeypatch.setattr(packed, "CHUNK", 2)
    signals = [
        {"votes": 2, "close": 101.5},
        {"regime": "trend", "sure": True},
        {"z": np.float64(1.25), "side": OrderSide.BUY},
        {"none": None},
    ]
    decisions = [
        Decision(k, "BTC/USDT", Signal(SignalAction.BUY, 1.0, "up", meta), {}, None, "buy")
        for k, meta in enumerate(signals)
    ]

    # Act
    kept = packed_decisions()
    for d in decisions:
        kept.append(d)

    # Assert: the same values, of the same types
    assert list(kept) == decisions
    metadata = kept[2].signal.metadata
    assert type(metadata["z"]) is np.float64
    assert metadata["side"] is OrderSide.BUY
    assert [type(v) for v in kept[0].signal.metadata.values()] == [int, float]
