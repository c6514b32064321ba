"""The order lifecycle through the engine's one door: venue reports in any order, a stop the
price has passed, a reconciled position. Each case is a defect the independent harness found.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from factories import ScriptedStrategy, candles_from_rows, drive, make_engine
from tradebot.domain.commands import PlaceOrder
from tradebot.domain.events import (
    BarClosed,
    OrderFilled,
    OrderUpdated,
    PositionReconciled,
    StateRestored,
)
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.settings import ATR_COLUMN
from tradebot.risk.stops import StopMethod, StopParams, TakeProfitMethod

D = Decimal
FLAT = [(100.0, 100.5, 99.5, 100.0)] * 8
OCO = StopParams(
    method=StopMethod.FIXED_PCT,
    pct=D("0.10"),
    take_profit=TakeProfitMethod.PCT,
    take_profit_pct=D("0.10"),
)
STOP_2PCT = StopParams(method=StopMethod.FIXED_PCT, pct=D("0.02"))


def sell_fill(cid: ClientOrderId, qty: Decimal, price: Decimal, ts: int) -> Fill:
    return Fill(cid, "BTC/USDT", OrderSide.SELL, qty, price, D(0), "USDT", ts, "venue-t-1")


def restored_with_position(stops: StopParams, price: str = "100", qty: str = "10") -> TradingEngine:
    engine, _ = make_engine(ScriptedStrategy(), stops=stops)
    entry = Fill(
        ClientOrderId("tb-BTCUSDT-1-en"), "BTC/USDT", OrderSide.BUY, D(qty), D(price), D(0),
        "USDT", 1, "venue-t-0",
    )  # fmt: skip
    engine.handle(StateRestored("BTC/USDT", (), (entry,)))
    return engine


def test_stop_filled_as_its_partner_expires_is_booked_not_canceled() -> None:
    # Arrange: a position guarded by a stop and a take-profit as one OCO list
    engine, exchange = make_engine(ScriptedStrategy([1]), stops=OCO)
    drive(engine, exchange, candles_from_rows(FLAT))
    protection = engine.view.protection_of("BTC/USDT")
    assert protection is not None
    stop_id, tp_id = protection.stop_order_id, protection.take_profit_order_id
    assert stop_id is not None
    assert tp_id is not None
    stop = engine.view.order(stop_id)
    assert stop is not None
    assert stop.stop_price is not None
    # Act: one sync learns of the take-profit's expiry before the stop's fill (the race)
    engine.handle(OrderUpdated(tp_id, "BTC/USDT", OrderStatus.EXPIRED, 9, "OCO partner filled"))
    step = engine.handle(OrderFilled(sell_fill(stop_id, stop.qty, stop.stop_price, 9)))
    # Assert
    assert len(step.fills) == 1
    (trade,) = step.trades
    assert trade.exit_reason == "stop_loss"
    assert engine.view.order(stop_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert engine.view.is_flat("BTC/USDT")
    assert engine.view.open_orders() == []


def test_the_same_fill_reported_twice_is_booked_once() -> None:
    engine, exchange = make_engine(ScriptedStrategy([1]), stops=OCO)
    drive(engine, exchange, candles_from_rows(FLAT))
    protection = engine.view.protection_of("BTC/USDT")
    assert protection is not None
    assert protection.stop_order_id is not None
    stop = engine.view.order(protection.stop_order_id)
    assert stop is not None
    assert stop.stop_price is not None
    fill = sell_fill(stop.client_order_id, stop.qty, stop.stop_price, 9)

    first = engine.handle(OrderFilled(fill))
    again = engine.handle(OrderFilled(fill))

    assert len(first.trades) == 1
    assert again.is_empty
    assert len(engine.trades) == 1


def test_a_stop_the_price_already_passed_becomes_a_market_exit() -> None:
    # Arrange: after a restart, a position bought at 100 with no stop; the market is at 90
    engine = restored_with_position(STOP_2PCT)
    bars = engine.prepare(candles_from_rows([(91.0, 91.0, 89.0, 90.0)] * 3))
    # Act
    step = engine.handle(BarClosed("BTC/USDT", int(bars.ts_ms[2]), 2))
    # Assert: not a stop at 98 (refused "would trigger immediately" every bar) but an exit
    (order,) = step.commands
    assert isinstance(order, PlaceOrder)
    assert (order.type, order.side, order.qty) == (OrderType.MARKET, OrderSide.SELL, D(10))
    assert role_of(order.client_order_id) is OrderRole.STOP_EXIT
    assert "stop 98.00 already passed at 90" in order.reason
    assert step.decision is not None
    assert step.decision.action == "protect position"


def test_a_stop_refused_as_triggering_immediately_is_replaced_by_a_market_exit() -> None:
    # Arrange: a restored position gets its stop at 98 while the market is at 100
    engine = restored_with_position(STOP_2PCT)
    bars = engine.prepare(candles_from_rows([(100.0, 100.5, 99.5, 100.0)] * 3))
    (stop,) = engine.handle(BarClosed("BTC/USDT", int(bars.ts_ms[2]), 2)).commands
    assert isinstance(stop, PlaceOrder)
    assert stop.type is OrderType.STOP_LOSS
    # Act: by the time it reached the venue, the price had fallen through it
    reason = "Order would trigger immediately."
    step = engine.handle(
        OrderUpdated(stop.client_order_id, "BTC/USDT", OrderStatus.REJECTED, 5, reason)
    )
    # Assert
    (exit_order,) = step.commands
    assert isinstance(exit_order, PlaceOrder)
    assert (exit_order.type, exit_order.qty) == (OrderType.MARKET, D(10))
    assert role_of(exit_order.client_order_id) is OrderRole.STOP_EXIT
    assert reason in exit_order.reason


def test_a_reconciled_position_keeps_the_ledger_identity() -> None:
    # Arrange: the books hold 10 BTC bought at 100; the venue holds 9.9
    engine = restored_with_position(STOP_2PCT)
    # Act
    engine.handle(PositionReconciled("BTC/USDT", D("9.9"), 5, "venue holds less"))
    # Assert
    position = engine.view.position("BTC/USDT")
    assert position is not None
    assert position.qty == D("9.9")
    for mark in (D(100), D(90), D(123.45)):
        assert engine.portfolio.ledger_error({"BTC/USDT": mark}) == 0
    assert engine.portfolio.adjustments == D(-10)


def test_an_oco_list_refused_whole_leaves_no_leg_behind_and_trading_goes_on() -> None:
    # Arrange: a limit entry fills inside bar 2, which closes above the take-profit, so the
    # OCO list is refused ("would immediately match") and the position is sold at market.
    rows = [*FLAT[:2], (100.0, 104.0, 98.5, 103.5), *FLAT[:6]]
    stops = StopParams(
        method=StopMethod.FIXED_PCT,
        pct=D("0.10"),
        take_profit=TakeProfitMethod.PCT,
        take_profit_pct=D("0.02"),
    )
    engine, exchange = make_engine(
        ScriptedStrategy([1, 5]), stops=stops, use_limit_entries=True, limit_offset_bps=D(100)
    )
    # Act
    recorder = drive(engine, exchange, candles_from_rows(rows))
    # Assert: both legs refused, the exit sent, and the entry of bar 5 traded too
    assert len(recorder.rejected) == 2
    assert [t.exit_reason for t in engine.trades][:1] == ["stop_loss"]
    entries = [bar for bar, c in recorder.sent if role_of(c.client_order_id) is OrderRole.ENTRY]
    assert entries == [1, 5]
    assert all(o.status is not OrderStatus.SUBMITTING for o in engine.view.open_orders())


def test_an_entry_whose_atr_a_restart_lost_is_protected_at_the_next_close_from_its_atr() -> None:
    # Arrange: after a restart that found no decision for it, a working market entry with
    # ATR stops (2 x ATR); 20 flat bars, so the ATR is known at the last one
    engine, _ = make_engine(ScriptedStrategy(), stops=StopParams(method=StopMethod.ATR))
    bars = engine.prepare(candles_from_rows(FLAT * 3)[:20])
    cid = ClientOrderId("tb-BTCUSDT-1-en")
    sent = Order(
        cid, "BTC/USDT", OrderSide.BUY, OrderType.MARKET, D(10), status=OrderStatus.SUBMITTING
    )
    engine.handle(StateRestored("BTC/USDT", (sent,), ()))
    # Act: its fill is reported, then bar 19 closes
    filled = engine.handle(OrderFilled(Fill(cid, "BTC/USDT", OrderSide.BUY, D(10), D(100), D(0),
                                            "USDT", 5, "venue-t-0")))  # fmt: skip
    closed = engine.handle(BarClosed("BTC/USDT", int(bars.ts_ms[19]), 19))
    # Assert: no position left believed protected by nothing; the stop comes at the close
    assert [c for c in filled.commands if isinstance(c, PlaceOrder)] == []
    (stop,) = [c for c in closed.commands if isinstance(c, PlaceOrder)]
    atr = Decimal(repr(float(bars[ATR_COLUMN][19])))
    assert role_of(stop.client_order_id) is OrderRole.STOP_LOSS
    assert (stop.qty, stop.stop_price) == (
        D(10),
        (D(100) - 2 * atr).quantize(D("0.01"), ROUND_DOWN),
    )
