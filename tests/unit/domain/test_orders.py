"""The order state machine: legal moves pass, every other move raises StateError."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.errors import StateError
from tradebot.domain.orders import (
    ClientOrderId,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)

CID = ClientOrderId("tb-BTCUSDT-1-en")
LEGAL = {
    OrderStatus.NEW: {OrderStatus.SUBMITTING, OrderStatus.REJECTED},
    OrderStatus.SUBMITTING: {
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.CANCELED,
        OrderStatus.UNKNOWN,
    },
    OrderStatus.UNKNOWN: {
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
    },
    OrderStatus.OPEN: {
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    },
    OrderStatus.PARTIALLY_FILLED: {
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    },
}
ILLEGAL = [
    (src, dst)
    for src in OrderStatus
    for dst in OrderStatus
    if dst != src and dst not in LEGAL.get(src, set())
]


def order(status: OrderStatus = OrderStatus.NEW, qty: str = "1") -> Order:
    return Order(CID, "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal(qty), status=status)


def fill(qty: str, price: str, cid: ClientOrderId = CID) -> Fill:
    return Fill(cid, "BTC/USDT", OrderSide.BUY, Decimal(qty), Decimal(price), Decimal(0), "BTC", 7)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL)
def test_transition_illegal_move_raises_state_error_and_keeps_status(
    src: OrderStatus, dst: OrderStatus
) -> None:
    o = order(src)

    with pytest.raises(StateError, match=f"cannot go from {src} to {dst}"):
        o.transition(dst, 5)

    assert o.status is src


@pytest.mark.parametrize(("src", "dst"), [(s, d) for s, ds in LEGAL.items() for d in sorted(ds)])
def test_transition_legal_move_sets_status_and_time(src: OrderStatus, dst: OrderStatus) -> None:
    o = order(src)

    o.transition(dst, 5)

    assert (o.status, o.updated_ts_ms) == (dst, 5)


def test_transition_terminal_statuses_cannot_move_anywhere() -> None:
    terminal = [s for s in OrderStatus if s.is_terminal]

    assert set(terminal) == {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
    assert all((s, OrderStatus.OPEN) in ILLEGAL for s in terminal)


def test_apply_fill_two_parts_averages_price_and_fills() -> None:
    o = order(OrderStatus.OPEN, qty="3")

    o.apply_fill(fill("1", "100"))
    assert (o.status, o.remaining_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal(2))
    o.apply_fill(fill("2", "103"))

    assert o.status is OrderStatus.FILLED
    assert o.avg_fill_price == Decimal(102)
    assert o.filled_qty == Decimal(3)
    assert not o.is_open


def test_apply_fill_first_fill_prices_the_order_at_the_fill_digit_for_digit() -> None:
    # A price of exchange ticks and an amount of lot steps, as the venue fills them
    o = order(OrderStatus.OPEN, qty="0.23561")

    o.apply_fill(fill("0.23561", "42441.30"))

    assert str(o.avg_fill_price) == "42441.30"
    assert str(o.filled_qty) == "0.23561"


def test_apply_fill_on_new_order_walks_the_machine_to_filled() -> None:
    o = order(OrderStatus.NEW)

    o.apply_fill(fill("1", "100"))

    assert o.status is OrderStatus.FILLED


def test_apply_fill_overfill_raises_state_error() -> None:
    o = order(OrderStatus.OPEN, qty="1")

    with pytest.raises(StateError, match=r"fill of 1\.5 overfills 0/1"):
        o.apply_fill(fill("1.5", "100"))

    assert o.filled_qty == 0


def test_apply_fill_for_other_order_raises_state_error() -> None:
    o = order(OrderStatus.OPEN)

    with pytest.raises(StateError, match="fill for other applied to tb-BTCUSDT-1-en"):
        o.apply_fill(fill("1", "100", ClientOrderId("other")))


def test_a_late_fill_on_a_canceled_order_is_booked_and_the_status_kept() -> None:
    # Binance reports a fill made just before a cancel after the cancel: the venue made it.
    o = order(OrderStatus.CANCELED)

    o.apply_fill(fill("1", "100"))

    assert o.filled_qty == 1
    assert o.avg_fill_price == 100
    assert o.status is OrderStatus.CANCELED


def test_apply_fill_on_a_filled_order_raises_state_error() -> None:
    o = order(OrderStatus.FILLED)

    with pytest.raises(StateError, match="cannot go from filled"):
        o.apply_fill(fill("1", "100"))

    assert o.fills == []


def test_a_copied_pickled_or_replaced_order_keeps_every_field() -> None:
    # Order's __init__ is written out (compiled, it is native code), so copy and pickle
    # go through __reduce__: every field must come back, the fills as their own list.
    import copy
    import dataclasses
    import pickle

    fill = Fill(CID, "BTC/USDT", OrderSide.BUY, Decimal("0.5"), Decimal(100), Decimal(0), "USDT", 7)
    order = Order(
        CID, "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal(1), Decimal(100),
        status=OrderStatus.OPEN, exchange_order_id="42", created_ts_ms=5, reason="entry",
    )  # fmt: skip
    order.apply_fill(fill)
    for twin in (copy.copy(order), copy.deepcopy(order), pickle.loads(pickle.dumps(order))):
        assert twin == order
        assert (twin.filled_qty, twin.avg_fill_price, twin.fills) == (Decimal("0.5"), 100, [fill])
    assert copy.deepcopy(order).fills is not order.fills
    moved = dataclasses.replace(order, status=OrderStatus.CANCELED)
    assert (moved.status, moved.filled_qty, moved.exchange_order_id) == (
        OrderStatus.CANCELED,
        Decimal("0.5"),
        "42",
    )
    assert Order(CID, "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal(1)).fills == []
