"""SQLite in WAL mode with two connections: writers queue, readers never block."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderSide, OrderType
from tradebot.state.db import Database, create_database
from tradebot.state.repository import Repository

SYMBOL = "BTC/USDT"


def _order(coid: str) -> Order:
    return Order(ClientOrderId(coid), SYMBOL, OrderSide.BUY, OrderType.MARKET, Decimal("0.001"))


def _fill(coid: str, n: int) -> Fill:
    return Fill(
        ClientOrderId(coid),
        SYMBOL,
        OrderSide.BUY,
        Decimal("0.001"),
        Decimal("97000.5"),
        Decimal("0.097"),
        "USDT",
        ts_ms=n,
        trade_id=f"t-{n}",
    )


def _write_many(path: Path, prefix: str, count: int) -> int:
    database = Database(path)
    repo = Repository(database)
    try:
        for n in range(count):
            coid = f"{prefix}-{n}"
            with repo.transaction() as tx:
                tx.record_order_intent(_order(coid))
                tx.record_fill(_fill(coid, n))
        return count
    finally:
        database.close()


def test_two_connections_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "state.db"
    create_database(path).close()
    # Act
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = list(pool.map(_write_many, [path, path], ["a", "b"], [150, 150]))
    # Assert
    database = Database(path)
    fills = Repository(database).fills()
    database.close()
    assert written == [150, 150]
    assert len(fills) == 300
    assert len({f.client_order_id for f in fills}) == 300


def test_same_intent_raced_from_two_connections_is_written_once(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "state.db"
    create_database(path).close()
    coids = [f"tb-race-{n}" for n in range(100)]

    def record_all(_: int) -> list[bool]:
        database = Database(path)
        try:
            repo = Repository(database)
            return [repo.record_order_intent(_order(c)) for c in coids]
        finally:
            database.close()

    # Act
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(record_all, [1, 2])
    # Assert
    assert [a + b for a, b in zip(first, second, strict=True)] == [1] * 100


def test_reader_sees_last_commit_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "state.db"
    writer_db, reader_db = create_database(path), Database(path)
    writer, reader = Repository(writer_db), Repository(reader_db)
    writer.record_order_intent(_order("tb-committed"))
    holding, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        with writer.transaction() as tx:
            tx.record_order_intent(_order("tb-uncommitted"))
            holding.set()
            release.wait(timeout=10)

    thread = threading.Thread(target=hold_write_lock)
    thread.start()
    assert holding.wait(timeout=10)
    # Act: read while the other connection is mid-transaction.
    seen_during = [o.client_order_id for o in reader.open_orders()]
    release.set()
    thread.join(timeout=10)
    seen_after = [o.client_order_id for o in reader.open_orders()]
    writer_db.close()
    reader_db.close()
    # Assert
    assert seen_during == ["tb-committed"]
    assert sorted(seen_after) == ["tb-committed", "tb-uncommitted"]
