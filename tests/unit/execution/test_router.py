"""OrderRouter: deterministic client ids, and each order's lifecycle as the venue reports it."""

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
    TimeInForce,
)
from tradebot.execution.router import (
    OrderIntent,
    OrderRole,
    OrderRouter,
    make_client_order_id,
    role_of,
)

D = Decimal
TS = 1_704_067_200_000


def buy(qty: str = "1") -> OrderIntent:
    return OrderIntent("BTC/USDT", OrderSide.BUY, OrderType.MARKET, D(qty), OrderRole.ENTRY)


def test_make_client_order_id_same_decision_gives_same_id() -> None:
    first = make_client_order_id("tb", "BTC/USDT", TS, OrderRole.STOP_LOSS)

    assert first == make_client_order_id("tb", "BTC/USDT", TS, OrderRole.STOP_LOSS)
    assert first != make_client_order_id("tb", "BTC/USDT", TS + 1, OrderRole.STOP_LOSS)
    assert len(first) <= 36
    assert all(ch.isalnum() or ch in "-_" for ch in first)


def test_make_client_order_id_too_long_raises_state_error() -> None:
    with pytest.raises(StateError, match="is longer than 36 characters"):
        make_client_order_id("a-very-long-prefix", "BTC/USDT", TS, OrderRole.ENTRY)


@pytest.mark.parametrize("role", list(OrderRole))
def test_role_of_id_made_for_role_gives_role_back(role: OrderRole) -> None:
    assert role_of(make_client_order_id("tb", "ETH/USDT", TS, role, attempt=3)) is role


def test_role_of_foreign_id_is_none() -> None:
    assert role_of(ClientOrderId("web_8f3a2c")) is None


def test_place_same_role_same_bar_twice_gets_attempt_suffix() -> None:
    router = OrderRouter()

    first = router.place(buy(), TS)
    second = router.place(buy(), TS)

    assert first.client_order_id != second.client_order_id
    assert second.client_order_id.endswith("-en1")
    assert [o.status for o in router.open_orders()] == [OrderStatus.SUBMITTING] * 2


def test_on_fill_full_fill_closes_order_and_drops_it_from_open() -> None:
    router = OrderRouter()
    cmd = router.place(buy("2"), TS)
    router.on_status(cmd.client_order_id, OrderStatus.OPEN, TS)

    fill = Fill(cmd.client_order_id, "BTC/USDT", OrderSide.BUY, D(2), D(100), D(0), "BTC", TS)
    order = router.on_fill(fill)

    assert order is not None
    assert (order.status, order.avg_fill_price) == (OrderStatus.FILLED, D(100))
    assert router.open_orders() == []
    assert not router.has_open_orders


def test_on_fill_fill_before_acknowledgement_moves_through_open() -> None:
    router = OrderRouter()
    cmd = router.place(buy(), TS)

    fill = Fill(cmd.client_order_id, "BTC/USDT", OrderSide.BUY, D(1), D(100), D(0), "BTC", TS)
    order = router.on_fill(fill)

    assert order is not None
    assert order.status is OrderStatus.FILLED


def test_on_fill_for_order_not_ours_is_none() -> None:
    fill = Fill(ClientOrderId("x"), "BTC/USDT", OrderSide.BUY, D(1), D(1), D(0), "BTC", TS)

    assert OrderRouter().on_fill(fill) is None


def test_on_status_rejected_submission_is_terminal_and_not_open() -> None:
    router = OrderRouter()
    cmd = router.place(buy(), TS)

    router.on_status(cmd.client_order_id, OrderStatus.REJECTED, TS)

    order = router.get(cmd.client_order_id)
    assert order is not None
    assert order.status is OrderStatus.REJECTED
    assert router.open_orders("BTC/USDT") == []


def test_on_status_cancel_of_unacknowledged_order_is_accepted() -> None:
    router = OrderRouter()
    cmd = router.place(buy(), TS)

    router.on_status(cmd.client_order_id, OrderStatus.CANCELED, TS + 5)

    order = router.get(cmd.client_order_id)
    assert order is not None
    assert (order.status, order.updated_ts_ms) == (OrderStatus.CANCELED, TS + 5)


def test_forget_closed_keeps_only_working_orders() -> None:
    router = OrderRouter()
    done = router.place(buy(), TS)
    working = router.place(buy(), TS + 1)
    router.on_status(done.client_order_id, OrderStatus.REJECTED, TS)

    router.forget_closed()

    assert router.get(done.client_order_id) is None
    assert [o.client_order_id for o in router] == [working.client_order_id]


def test_working_entry_is_the_earliest_working_entry_of_that_market() -> None:
    # Arrange: BTC has a stop-loss, then two entries, then a take-profit working; ETH an
    # entry placed before all of them
    router = OrderRouter()

    def place(symbol: str, role: OrderRole, ts: int) -> ClientOrderId:
        intent = OrderIntent(symbol, OrderSide.BUY, OrderType.LIMIT, D(1), role, price=D(1))
        return router.place(intent, ts).client_order_id

    eth = place("ETH/USDT", OrderRole.ENTRY, TS)
    place("BTC/USDT", OrderRole.STOP_LOSS, TS + 1)
    first = place("BTC/USDT", OrderRole.ENTRY, TS + 2)
    second = place("BTC/USDT", OrderRole.ENTRY, TS + 3)
    place("BTC/USDT", OrderRole.TAKE_PROFIT, TS + 4)
    adopted = Order(
        ClientOrderId(make_client_order_id("tb", "SOL/USDT", TS, OrderRole.ENTRY)),
        "SOL/USDT", OrderSide.BUY, OrderType.LIMIT, D(1), D(1), None, TimeInForce.GTC,
        OrderStatus.OPEN, "x1", D(0), None, TS, TS,
    )  # fmt: skip
    router.adopt(adopted)  # found on the exchange at a restart

    def entry_of(symbol: str) -> ClientOrderId | None:
        order = router.working_entry(symbol)
        return None if order is None else order.client_order_id

    # Act / Assert: each market its own earliest working entry (never a stop or a take-
    # profit); the next once the first is canceled; none once none works
    assert [entry_of(s) for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT")] == [
        first,
        eth,
        adopted.client_order_id,
    ]
    router.on_status(first, OrderStatus.CANCELED, TS + 5)
    assert entry_of("BTC/USDT") == second
    router.on_status(second, OrderStatus.OPEN, TS + 6)
    router.on_fill(Fill(second, "BTC/USDT", OrderSide.BUY, D(1), D(1), D(0), "USDT", TS + 7))
    assert entry_of("BTC/USDT") is None
    assert entry_of("XRP/USDT") is None
