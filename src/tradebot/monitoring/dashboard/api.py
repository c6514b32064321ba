"""The read-only REST API: each route is one view of ``StateReader``, for any viewer."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from tradebot.monitoring.dashboard import schemas
from tradebot.monitoring.dashboard.access import viewer
from tradebot.monitoring.dashboard.auth import Principal
from tradebot.monitoring.dashboard.events import stream
from tradebot.monitoring.dashboard.reader import CANDLE_LIMIT, StateReader

router = APIRouter(prefix="/api", dependencies=[Depends(viewer)])
Viewer = Annotated[Principal, Depends(viewer)]


def _reader(request: Request) -> StateReader:
    reader: StateReader = request.app.state.reader
    return reader


Reader = Annotated[StateReader, Depends(_reader)]


@router.get("/overview", tags=["state"])
async def overview(reader: Reader, who: Viewer) -> schemas.Overview:
    """The kill switch, equity, counts, and the caller's role."""
    return await asyncio.to_thread(reader.overview, who.name, who.role.value, who.may_operate)


@router.get("/positions", tags=["state"])
async def positions(reader: Reader) -> list[schemas.PositionView]:
    """Open positions with their stops, marked at the last decided close."""
    return await asyncio.to_thread(reader.positions)


@router.get("/orders", tags=["state"])
async def open_orders(reader: Reader) -> list[schemas.OrderView]:
    """Orders still open on the venue (or written and not yet confirmed)."""
    return await asyncio.to_thread(reader.open_orders)


@router.get("/trades", tags=["state"])
async def trades(
    reader: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[schemas.TradeView]:
    """Closed round trips, newest first."""
    return await asyncio.to_thread(reader.trades, limit)


@router.get("/equity", tags=["charts"])
async def equity(reader: Reader, symbol: str | None = None) -> schemas.EquityView:
    """Equity against buy-and-hold of ``symbol`` (default: the traded one), and drawdown."""
    return await asyncio.to_thread(reader.equity, symbol)


@router.get("/candles", tags=["charts"])
async def candles(
    reader: Reader,
    symbol: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = CANDLE_LIMIT,
) -> schemas.CandleView:
    """The newest decided bars with the strategy's indicators and the fills on them."""
    return await asyncio.to_thread(reader.candles, symbol, limit)


@router.get("/decisions", tags=["decisions"])
async def decisions(
    reader: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: int | None = None,
    acted_only: bool = False,
) -> list[schemas.DecisionSummary]:
    """A page of the decision log, newest first; ``acted_only`` hides plain holds."""
    return await asyncio.to_thread(reader.decisions, limit, before_id, acted_only)


@router.get("/decisions/{decision_id}", tags=["decisions"])
async def explain(reader: Reader, decision_id: int) -> schemas.ExplanationView:
    """Why the bot did what it did: signal, indicators, risk checks, action, orders, fills."""
    found = await asyncio.to_thread(reader.explanation, decision_id)
    if found is None:
        raise HTTPException(404, f"no decision #{decision_id} in the log")
    return found


@router.get("/health", tags=["health"])
async def health(reader: Reader) -> schemas.Health:
    """Is the state readable, is the bot deciding on time, is trading allowed."""
    return await asyncio.to_thread(reader.health, time.time_ns() // 1_000_000)


@router.get("/alerts", tags=["health"])
async def alerts(
    reader: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> schemas.AlertsView:
    """The alert outbox: deliveries pending, sent and failed, and the newest ones."""
    return await asyncio.to_thread(reader.alerts, limit)


@router.get(
    "/events",
    tags=["stream"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(request: Request, reader: Reader) -> StreamingResponse:
    """Server-Sent Events: ``state`` when the bot's saved state changed, ``log`` per line."""
    app_state = request.app.state
    body = stream(reader.repo.activity, app_state.logs, app_state.poll_s, app_state.closing)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
