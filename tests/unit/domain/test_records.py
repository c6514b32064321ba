"""Records keep every value through copy, pickle and ``dataclasses.replace``.

Their ``__init__`` is written out (native code in the compiled build), so copy and pickle
go through ``__reduce__``; ``make test-compiled`` runs these against the compiled classes.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from decimal import Decimal

import pytest

from tradebot.domain.commands import CancelOrder, PlaceOrder
from tradebot.domain.decisions import Decision, RiskCheck, RiskVerdict, Signal, SignalAction
from tradebot.domain.estimate import Estimate
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide, OrderType
from tradebot.domain.portfolio import Trade
from tradebot.execution.positions import Protection
from tradebot.risk.controller import KillSwitch, OrderProposal, RiskState
from tradebot.risk.sizing import SizingInput
from tradebot.risk.stops import StopLoss, StopMethod

CID = ClientOrderId("tb-BTCUSDT-1-en")
SIGNAL = Signal(SignalAction.BUY, 0.8, "golden cross", {"ema_fast": 1.5})
RECORDS = [
    PlaceOrder(
        CID, "BTC/USDT", OrderSide.SELL, OrderType.STOP_LOSS, Decimal("0.5"),
        stop_price=Decimal(90), reason="stop", take_profit_price=Decimal(120),
        take_profit_id=ClientOrderId("tb-BTCUSDT-1-tp"),
    ),
    CancelOrder(CID, "BTC/USDT", "position closed"),
    Fill(
        CID, "BTC/USDT", OrderSide.BUY, Decimal("0.5"), Decimal(100), Decimal("0.05"), "USDT", 7,
        "t1", True,
    ),
    SIGNAL,
    Decision(
        60_000, "BTC/USDT", SIGNAL, {"rsi": 40.0},
        RiskVerdict((RiskCheck("max_position_size", True, "50 <= 100"),)),
        "buy", (CID,), 10_050.0, 9_950.0, 0.5,
    ),
    Trade(
        "BTC/USDT", 1, 2, Decimal("0.5"), Decimal(100), Decimal(110), Decimal("0.1"),
        Decimal("4.9"), "signal",
    ),
    OrderProposal("BTC/USDT", Decimal(50), False),
    RiskState(
        Decimal(10_000), Decimal(50), Decimal(50), 1, Decimal(9_900), KillSwitch.ACTIVE,
        Decimal(20), (("ETH/USDT", 0.91),),
    ),
    SizingInput(Decimal(10_000), Decimal(9_000), Decimal(100), Decimal(95), 2.5, Decimal("0.001")),
    StopLoss(Decimal(95), Decimal(5), StopMethod.ATR),
]  # fmt: skip
MUTABLE = [  # changed in place as their order's life goes on: compared, never hashed
    Protection(CID, Decimal(95), ClientOrderId("tb-BTCUSDT-1-tp"), Decimal(120), 2.5, True),
]


@pytest.mark.parametrize("record", RECORDS + MUTABLE, ids=lambda r: type(r).__name__)
def test_a_record_survives_copy_pickle_and_replace(record: object) -> None:
    values = dataclasses.astuple(record)  # type: ignore[call-overload]
    for twin in (copy.copy(record), copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
        assert type(twin) is type(record)
        assert twin == record
        assert dataclasses.astuple(twin) == values  # type: ignore[call-overload]
    first = dataclasses.fields(record)[0]  # type: ignore[arg-type]
    same = dataclasses.replace(record, **{first.name: getattr(record, first.name)})  # type: ignore[type-var]
    assert same == record


def test_defaults_are_those_a_caller_leaves_out() -> None:
    order = PlaceOrder(CID, "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal(1))
    assert (order.price, order.reason, order.oco_with, order.take_profit_id) == (
        None,
        "",
        None,
        None,
    )
    assert Signal(SignalAction.HOLD).metadata == {}
    assert Signal(SignalAction.HOLD).metadata is not Signal(SignalAction.HOLD).metadata
    assert (
        RiskState(Decimal(1), Decimal(0), Decimal(0), 0, Decimal(1)).kill_switch
        is KillSwitch.ACTIVE
    )


def test_a_hashable_record_hashes_by_its_values() -> None:
    assert hash(CancelOrder(CID, "BTC/USDT")) == hash(CancelOrder(CID, "BTC/USDT"))
    assert len({StopLoss(Decimal(95), Decimal(5), StopMethod.ATR), RECORDS[-1]}) == 1


def test_a_risk_state_or_sizing_input_holding_estimates_pickles_their_decimals() -> None:
    # Arrange: the estimates a basket's entry gets (their makers cannot be pickled)
    equity = Estimate(10_000.5, 1e-9, lambda: Decimal("10000.50"))
    exposure = Estimate(250.25, 1e-9, lambda: Decimal("250.25"))
    state = RiskState(equity, exposure, Decimal(0), 1, Decimal(10_000))
    sizing = SizingInput(equity, Decimal(9_000), Decimal(100), None, None, Decimal(0))

    # Act
    state_copy, sizing_copy = pickle.loads(pickle.dumps((state, sizing)))

    # Assert
    assert (state_copy.equity, state_copy.exposure) == (Decimal("10000.50"), Decimal("250.25"))
    assert state_copy.daily_pnl == Decimal("0.50")
    assert sizing_copy.equity == Decimal("10000.50")
