"""The trade log: one INFO line per order sent, fill and closed trade, matching the database."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from paper_venue import replay, trading, venue_orders
from tradebot.monitoring.logging import configure_logging
from tradebot.sandbox import FaultConfig


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


async def test_paper_bot_trade_log_has_a_line_per_order_fill_and_trade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: JSON lines at INFO, a key in the environment that must stay out of them
    configure_logging("INFO", "json", secrets=["faults-secret"])
    async with trading(tmp_path, FaultConfig()) as (server, bot, _):
        await bot.start()
        # Act
        await replay(server, bot, 100)
        sent = await venue_orders(server)
    # Assert
    err = capsys.readouterr().err
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    by_event: dict[str, list[dict[str, object]]] = {}
    for line in lines:
        by_event.setdefault(str(line["event"]), []).append(line)
    trades, fills = bot.repo.trades(), bot.repo.fills()
    assert len(trades) >= 1
    orders = by_event["order sent"]
    assert all(x["level"] == "info" and x["logger"] == "tradebot.trades" for x in orders)
    named = [x["client_order_id"] for x in orders] + [
        x["take_profit_id"] for x in orders if x["take_profit_id"] is not None
    ]  # an OCO pair is one request: its take-profit leg is named in its stop's line
    assert sorted(named) == sorted(str(o["clientOrderId"]) for o in sent)
    assert sorted((x["client_order_id"], x["exchange_trade_id"]) for x in by_event["fill"]) == (
        sorted((f.client_order_id, f.trade_id) for f in fills)
    )
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT id, pnl, exit_reason FROM trades ORDER BY id").fetchall()
    closed = [(x["trade_id"], x["pnl"], x["exit_reason"]) for x in by_event["trade closed"]]
    assert closed == [tuple(row) for row in rows]
    assert "faults-secret" not in err
