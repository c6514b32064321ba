"""Streams over ccxt.pro against the sandbox: drops, REST fallback, missed-candle catch-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from sandbox_venue import STEP_MS, SYMBOL, eventually, sandbox_and_connector

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.orders import ClientOrderId, Order, OrderSide, OrderStatus, OrderType

T = TypeVar("T")


def _collect(stream: AsyncIterator[T], into: list[T]) -> asyncio.Task[None]:
    async def run() -> None:
        async for item in stream:
            into.append(item)

    return asyncio.create_task(run())


async def test_watch_candles_after_ws_drop_refetches_bars_closed_while_down(tmp_path: Path) -> None:
    async with sandbox_and_connector(tmp_path) as (sandbox, connector):
        seen: list = []
        task = _collect(connector.watch_candles(SYMBOL, "1m"), seen)
        try:
            # Arrange: the stream is live
            await asyncio.sleep(0.3)
            await sandbox.advance(1)
            await eventually(lambda: len(seen) >= 1)

            # Act: the socket drops and three bars close before it is back
            await sandbox.hub.disconnect_all()
            await sandbox.advance(3)
            await eventually(lambda: seen[-1].ts_ms >= sandbox.now_ms)
            # then the socket is back and pushes again (the venue pushes every bar update)
            for _ in range(2):
                await asyncio.sleep(0.4)
                await sandbox.advance(1)
            await eventually(lambda: seen[-1].ts_ms >= sandbox.now_ms)
        finally:
            task.cancel()

    # Assert: every bar from the first seen to now, none skipped, never going backwards
    stamps = sorted({c.ts_ms for c in seen})
    assert stamps == list(range(stamps[0], stamps[-1] + STEP_MS, STEP_MS))
    assert len(stamps) >= 5
    assert [c.ts_ms for c in seen] == sorted(c.ts_ms for c in seen)
    assert connector.metrics.events["ws_drop.candles"] >= 1


async def test_watch_orders_reports_a_cancel_made_while_ws_down(tmp_path: Path) -> None:
    async with sandbox_and_connector(tmp_path) as (sandbox, connector):
        updates: list[Order] = []
        task = _collect(connector.watch_orders(SYMBOL), updates)
        try:
            await asyncio.sleep(0.3)
            command = PlaceOrder(
                ClientOrderId("s-1"),
                SYMBOL,
                OrderSide.BUY,
                OrderType.LIMIT,
                Decimal("0.01"),
                Decimal(90000),
            )
            await connector.create_order(command)
            await eventually(lambda: any(u.status is OrderStatus.OPEN for u in updates))

            await sandbox.hub.disconnect_all()
            await connector.cancel_order(ClientOrderId("s-1"), SYMBOL)
            await eventually(lambda: any(u.status is OrderStatus.CANCELED for u in updates))
        finally:
            task.cancel()

    assert [u.client_order_id for u in updates if u.status is OrderStatus.CANCELED] == ["s-1"]


async def test_watch_ticker_without_websocket_polls_rest(tmp_path: Path) -> None:
    async with sandbox_and_connector(tmp_path, websockets=False) as (_sandbox, connector):
        ticks: list = []
        task = _collect(connector.watch_ticker(SYMBOL), ticks)
        try:
            await eventually(lambda: len(ticks) >= 2)
        finally:
            task.cancel()

    assert ticks[0].bid <= ticks[0].last <= ticks[0].ask
    assert connector.metrics.events["stream_polls"] >= 2
