"""How far back ``tradebot state rebuild`` replays: from the earliest point the bot was flat."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradebot.domain.errors import StateError
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.orchestrator.rebuild import fills_since_flat

DUST = Decimal("0.00001")


def fill(ts_ms: int, side: OrderSide, qty: str, fee: str = "0", fee_asset: str = "USDT") -> Fill:
    return Fill(
        ClientOrderId(f"tb-BTCUSDT-{ts_ms}-en"), "BTC/USDT", side, Decimal(qty),
        Decimal(100), Decimal(fee), fee_asset, ts_ms, trade_id=str(ts_ms),
    )  # fmt: skip


def test_fills_since_flat_page_starting_mid_position_drops_the_orphan_sell() -> None:
    # Arrange: the page begins with the sell of a position bought before it; a buy whose
    # fee was paid in BTC leaves 0.998, sold whole; then today's position of 1 BTC
    orphan = fill(1, OrderSide.SELL, "0.5")
    trip = [fill(2, OrderSide.BUY, "1", "0.002", "BTC"), fill(3, OrderSide.SELL, "0.998")]
    today = fill(4, OrderSide.BUY, "1")
    # Act
    kept = fills_since_flat([today, orphan, *trip], Decimal(1), DUST, "BTC")
    # Assert
    assert kept == [*trip, today]


def test_fills_since_flat_flat_today_keeps_every_round_trip_in_the_page() -> None:
    # Arrange
    fills = [fill(1, OrderSide.BUY, "1"), fill(2, OrderSide.SELL, "1")]
    # Act
    kept = fills_since_flat(fills, Decimal(0), DUST, "BTC")
    # Assert
    assert kept == fills


def test_fills_since_flat_position_older_than_the_page_is_refused() -> None:
    # Arrange: 3 BTC held, the page shows only one buy of 1
    fills = [fill(1, OrderSide.BUY, "1")]
    # Act / Assert
    with pytest.raises(StateError, match="never show the bot without a position"):
        fills_since_flat(fills, Decimal(3), DUST, "BTC")
