"""Which exit a restart sends again: the one saved and never sent, while its bar is fresh."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.market import Candle
from tradebot.domain.orders import ClientOrderId, Order, OrderSide, OrderStatus, OrderType
from tradebot.orchestrator.restart import restarted

H = 3_600_000
CLOSED = [Candle(k * H, 100.0, 101.0, 99.0, 100.0, 1.0) for k in range(10)]  # newest: 9 h


def unsent_exit(decided_at_ms: int) -> Order:
    cid = ClientOrderId(f"tb-BTCUSDT-{decided_at_ms}-ex")
    return Order(
        cid, "BTC/USDT", OrderSide.SELL, OrderType.MARKET, Decimal(1),
        status=OrderStatus.EXPIRED, created_ts_ms=decided_at_ms, reason="EMA death cross",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("decided_bars_ago", "max_age_bars", "sent"),
    [(0, 1, True), (1, 1, False), (1, 2, True), (2, 2, False)],
)
def test_an_unsent_exit_goes_again_only_while_its_bar_is_among_the_newest_decided(
    decided_bars_ago: int, max_age_bars: int, sent: bool
) -> None:
    exit_order = unsent_exit(CLOSED[-1 - decided_bars_ago].ts_ms)
    event = restarted("BTC/USDT", CLOSED, 9, exit_order, max_age_bars)
    assert (event.ts_ms, event.bar) == (9 * H, 9)
    assert event.unsent_exit == (exit_order.client_order_id if sent else None)


def test_without_an_unsent_exit_a_restart_only_guards() -> None:
    assert restarted("BTC/USDT", CLOSED, 9, None, 1).unsent_exit is None
