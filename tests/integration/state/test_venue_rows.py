"""Orders, fills, positions and decisions carry their venue (revision 0007): the symbol's
venue id from the repository's venue map; rows saved before venues are ``binance``'s."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from tradebot.domain.decisions import Decision
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderType
from tradebot.domain.portfolio import Position
from tradebot.state.db import Database, alembic_config, create_database
from tradebot.state.repository import Repository
from tradebot.state.tables import DecisionRow, FillRow, OrderRow, PositionRow

VENUES = {"BTC/USDT": "binance", "ETH/USDT": "binance_b"}


def _order(symbol: str) -> Order:
    base = symbol.split("/")[0]
    return Order(
        client_order_id=ClientOrderId(f"tb-{base}-1-en"), symbol=symbol, side=OrderSide.BUY,
        type=OrderType.MARKET, qty=Decimal(1), created_ts_ms=1_000, updated_ts_ms=1_000,
    )  # fmt: skip


def _fill(order: Order) -> Fill:
    return Fill(
        client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
        qty=Decimal(1), price=Decimal(100), fee=Decimal(0), fee_asset="USDT", ts_ms=2_000,
        trade_id=f"t-{order.symbol}",
    )  # fmt: skip


def test_repository_rows_of_each_symbol_carry_its_venue(tmp_path: Path) -> None:
    # Arrange
    repo = Repository(create_database(tmp_path / "v.db"), venues=VENUES)
    # Act: one order, fill, position and decision on each venue
    for symbol in VENUES:
        order = _order(symbol)
        with repo.transaction() as tx:
            tx.record_order_intent(order)
            tx.record_fill(_fill(order))
            tx.save_position(Position(symbol, symbol.split("/")[0], "USDT", Decimal(1)))
            tx.append_decision(Decision.skipped(3_000, symbol, "test", (0.0, 0.0, 0.0)))
    # Assert
    engine = Database(tmp_path / "v.db").engine
    with engine.connect() as conn:
        for table in (OrderRow, FillRow, PositionRow, DecisionRow):
            rows = dict(conn.execute(select(table.symbol, table.venue)).all())
            assert rows == VENUES, table.__tablename__


def test_upgrade_from_0006_gives_saved_rows_the_one_venue_binance(tmp_path: Path) -> None:
    # Arrange: a database at revision 0006 holding an order
    database = Database(tmp_path / "old.db")
    with database.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
        connection.execute(
            text(
                "INSERT INTO orders (client_order_id, symbol, side, type, time_in_force, qty, "
                "status, filled_qty, reason, created_ts_ms, updated_ts_ms, intent_written_ts_ms) "
                "VALUES ('tb-BTCUSDT-1-en', 'BTC/USDT', 'buy', 'market', 'GTC', '0.1', "
                "'open', '0', 'cross', 1, 1, 1)"
            )
        )
    database.close()
    # Act
    create_database(tmp_path / "old.db").close()
    # Assert
    with Database(tmp_path / "old.db").engine.connect() as conn:
        venue = conn.execute(select(OrderRow.venue)).scalar_one()
    assert venue == "binance"
