"""Reconciliation: saved state against the exchange's, the exchange being the truth."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tradebot.domain.orders import (
    ClientOrderId,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)
from tradebot.domain.portfolio import Position
from tradebot.state.reconcile import (
    Discrepancy,
    DiscrepancyKind,
    ExchangeState,
    Fix,
    LocalState,
    ReconcileRules,
    reconcile,
)

D = Decimal
NOW = 1_733_011_500_000
SYMBOL = "BTC/USDT"


def order(coid: str, status: OrderStatus, filled: str = "0", qty: str = "0.002") -> Order:
    return Order(
        ClientOrderId(coid),
        SYMBOL,
        OrderSide.BUY,
        OrderType.LIMIT,
        D(qty),
        price=D("97000"),
        status=status,
        filled_qty=D(filled),
        avg_fill_price=D("97000") if D(filled) else None,
        created_ts_ms=NOW - 60_000,
        updated_ts_ms=NOW - 60_000,
        reason="entry",
    )


def fill(coid: str, trade_id: str, qty: str = "0.002", side: OrderSide = OrderSide.BUY) -> Fill:
    return Fill(
        ClientOrderId(coid), SYMBOL, side, D(qty), D("97000"), D("0.194"), "USDT", NOW, trade_id
    )


def flat() -> Position:
    return Position(SYMBOL, "BTC", "USDT")


def test_reconcile_matching_state_is_clean() -> None:
    saved = order("tb-1", OrderStatus.OPEN)
    result = reconcile(
        LocalState(orders=[saved], positions=[flat()], cash=D("1000")),
        ExchangeState(orders={"tb-1": saved}, balances={"USDT": D("1000")}),
        NOW,
    )
    assert result.is_clean
    assert not result.must_halt


def test_reconcile_intent_never_sent_is_closed_not_resent() -> None:
    # Arrange: one intent written just before a crash, one mid-request (SUBMITTING).
    intents = [order("tb-1", OrderStatus.NEW), order("tb-2", OrderStatus.SUBMITTING)]
    # Act
    result = reconcile(LocalState(orders=intents), ExchangeState(), NOW)
    # Assert
    assert [(d.kind, d.fix) for d in result.discrepancies] == [
        (DiscrepancyKind.ORDER_NOT_ON_EXCHANGE, Fix.CLOSE_AS_NOT_SENT)
    ] * 2
    assert [(o.client_order_id, o.status) for o in result.order_updates] == [
        ("tb-1", OrderStatus.REJECTED),
        ("tb-2", OrderStatus.EXPIRED),
    ]
    assert all(o.updated_ts_ms == NOW for o in result.order_updates)
    assert not result.must_halt


def test_reconcile_open_order_the_exchange_no_longer_knows_halts() -> None:
    result = reconcile(LocalState(orders=[order("tb-1", OrderStatus.OPEN)]), ExchangeState(), NOW)
    assert result.must_halt
    assert result.order_updates == ()
    assert "acknowledged this order once" in str(result.discrepancies[0])


def test_reconcile_order_filled_while_down_adopts_exchange_status_and_amounts() -> None:
    # Arrange
    saved = order("tb-1", OrderStatus.OPEN)
    on_exchange = dataclasses.replace(
        saved, status=OrderStatus.FILLED, filled_qty=D("0.002"), avg_fill_price=D("96990.5")
    )
    on_exchange.exchange_order_id, on_exchange.updated_ts_ms = "8812", NOW - 1_000
    # Act
    result = reconcile(LocalState(orders=[saved]), ExchangeState(orders={"tb-1": on_exchange}), NOW)
    # Assert
    (found,) = result.discrepancies
    assert found == Discrepancy(
        DiscrepancyKind.ORDER_STATUS,
        "tb-1",
        "open 0/0.002",
        "filled 0.002/0.002",
        Fix.ADOPT_EXCHANGE,
    )
    (update,) = result.order_updates
    assert (update.status, update.filled_qty, update.avg_fill_price) == (
        OrderStatus.FILLED,
        D("0.002"),
        D("96990.5"),
    )
    assert (update.exchange_order_id, update.reason, update.updated_ts_ms) == (
        "8812",
        "entry",
        NOW - 1_000,
    )


def test_reconcile_partial_fill_progress_is_adopted() -> None:
    saved = order("tb-1", OrderStatus.PARTIALLY_FILLED, filled="0.0005")
    venue = order("tb-1", OrderStatus.PARTIALLY_FILLED, filled="0.0015")
    result = reconcile(LocalState(orders=[saved]), ExchangeState(open_orders=[venue]), NOW)
    assert [d.kind for d in result.discrepancies] == [DiscrepancyKind.ORDER_FILLED_QTY]
    assert result.order_updates[0].filled_qty == D("0.0015")


def test_reconcile_unknown_open_orders_are_recorded_if_ours_and_ignored_if_not() -> None:
    ours, manual = order("tb-9", OrderStatus.OPEN), order("web-123", OrderStatus.OPEN)
    result = reconcile(
        LocalState(),
        ExchangeState(open_orders=[ours, manual]),
        NOW,
        ReconcileRules(client_id_prefix="tb-"),
    )
    assert [(d.kind, d.subject_id, d.fix) for d in result.discrepancies] == [
        (DiscrepancyKind.ORDER_UNKNOWN_LOCALLY, "tb-9", Fix.RECORD_FROM_EXCHANGE),
        (DiscrepancyKind.FOREIGN_ORDER, "web-123", Fix.IGNORE),
    ]
    assert result.orders_to_record == (ours,)


def test_reconcile_fill_lost_in_a_crash_is_reported_once_not_again_as_position() -> None:
    # Arrange: the exchange filled 0.002 BTC for 194 USDT + 0.194 fee; the DB never saw it.
    lost = fill("tb-1", "t-1")
    local = LocalState(fills=[], positions=[flat()], cash=D("1000"))
    venue = ExchangeState(fills=[lost], balances={"BTC": D("0.002"), "USDT": D("805.806")})
    # Act
    result = reconcile(local, venue, NOW)
    # Assert
    assert [(d.kind, d.fix) for d in result.discrepancies] == [
        (DiscrepancyKind.FILL_MISSING, Fix.RECORD_FROM_EXCHANGE)
    ]
    assert result.fills_to_record == (lost,)
    assert result.discrepancies[0].exchange_value == "buy 0.002 BTC/USDT @ 97000"


def test_reconcile_saved_fill_the_exchange_does_not_report_halts() -> None:
    result = reconcile(LocalState(fills=[fill("tb-1", "t-1")]), ExchangeState(), NOW)
    assert [(d.kind, d.fix) for d in result.discrepancies] == [
        (DiscrepancyKind.FILL_NOT_ON_EXCHANGE, Fix.HALT)
    ]
    assert result.must_halt


def test_reconcile_position_and_cash_adopt_the_exchange_beyond_reserved_and_tolerance() -> None:
    # Arrange: the owner keeps 0.5 BTC and 100 USDT of their own on the account.
    held = dataclasses.replace(flat(), qty=D("0.002"), cost=D("194"))
    rules = ReconcileRules(reserved={"BTC": D("0.5"), "USDT": D("100")}, tolerance=D("0.00000001"))
    venue = ExchangeState(balances={"BTC": D("0.50150000001"), "USDT": D("1200")})
    # Act
    result = reconcile(LocalState(positions=[held], cash=D("1000")), venue, NOW, rules)
    # Assert
    assert [(d.kind, d.local_value, d.exchange_value) for d in result.discrepancies] == [
        (DiscrepancyKind.POSITION_QTY, "0.002", "0.00150000001"),
        (DiscrepancyKind.CASH, "1000", "1100"),
    ]
    assert result.position_qty == {SYMBOL: D("0.00150000001")}
    assert result.cash == D("1100")


def test_reconcile_difference_within_tolerance_is_clean() -> None:
    held = dataclasses.replace(flat(), qty=D("0.002"))
    result = reconcile(
        LocalState(positions=[held]),
        ExchangeState(balances={"BTC": D("0.002000004")}),
        NOW,
        ReconcileRules(tolerance=D("0.00001")),
    )
    assert result.is_clean
