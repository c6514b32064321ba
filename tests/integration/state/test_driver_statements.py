"""The live cycle's three writes (decision, order intent, control value) run on SQLite's own
cursor (``state/prepared.py``) write the very rows SQLAlchemy's statement execution writes:
the same SQL, the same column types' bind processing, the same values and storage types."""

from __future__ import annotations

import math
import sqlite3
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection

from tradebot.domain.decisions import (
    Decision,
    RiskCheck,
    RiskVerdict,
    Signal,
    SignalAction,
)
from tradebot.domain.orders import ClientOrderId, Order, OrderSide, OrderType
from tradebot.state import create_database
from tradebot.state.decision_log import _APPEND, decision_values
from tradebot.state.repository import Repository
from tradebot.state.rows import order_values
from tradebot.state.transaction import _INSERT_INTENT, _UPSERT_CONTROL

WRITTEN_MS = 1_733_011_262_500


def make_decision(ts_ms: int, rsi: float = 61.25) -> Decision:
    """A decision with every column filled: metadata, indicators, checks, amounts."""
    signal = Signal(
        SignalAction.BUY, 0.8125, "fast EMA crossed above slow EMA",
        {"fast": 10, "slow": 30.5, "regime": "trend", "confirmed": True, "x": None},
    )  # fmt: skip
    checks = (RiskCheck("max_exposure", True, "14.7% <= 50%"), RiskCheck("daily_loss", True, ""))
    indicators = {"ema_fast": 97123.45678901234, "rsi": rsi, "atr": 1234.5}
    return Decision(
        ts_ms, "BTC/USDT", signal, indicators, RiskVerdict(checks), "EXECUTED",
        ("tb-1733011200000-BTCUSDT-buy",), 10001.123456789, 9854.1, 0.0015,
    )  # fmt: skip


def make_order(coid: str, qty: str, price: Decimal | None) -> Order:
    """An intent; the price with more digits than a float holds."""
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return Order(
        ClientOrderId(coid), "BTC/USDT", OrderSide.BUY, kind, Decimal(qty), price=price,
        created_ts_ms=1_733_011_260_000, updated_ts_ms=1_733_011_260_000, reason="cross up",
    )  # fmt: skip


DECISIONS = [
    make_decision(1_733_011_200_000),
    make_decision(1_733_011_260_000, rsi=math.nan),
    Decision(1_733_011_320_000, "ETH/USDT", Signal.hold(), {}, None, "HELD"),
]
ORDERS = [
    make_order("tb-1-buy", "0.00150", Decimal("97123.4567890123456789012345")),
    make_order("tb-2-buy", "0.1", None),
]


def _through_sqlalchemy(connection: Connection) -> None:
    """What the three writes ran before: SQLAlchemy's ``Connection.execute``."""
    for decision in DECISIONS:
        values = {**decision_values(decision, WRITTEN_MS), "venue": "binance"}
        decision_id = connection.execute(_APPEND.statement, values).scalar_one()
        for order in ORDERS if decision is DECISIONS[0] else []:
            values = {**order_values(order, str(decision_id), WRITTEN_MS), "venue": "binance"}
            connection.execute(_INSERT_INTENT["sqlite"].statement, values)
    for key, value in (("last_bar", "1733011200000"), ("last_bar", "1733011260000")):
        values = {"key": key, "value": value, "updated_ts_ms": WRITTEN_MS}
        connection.execute(_UPSERT_CONTROL["sqlite"].statement, values)


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the three tables as SQLite holds it, each value with its storage type."""
    found: dict[str, list[tuple[object, ...]]] = {}
    with sqlite3.connect(path) as raw:
        for table in ("decisions", "orders", "control_state"):
            columns = [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]
            typed = ", ".join(f"{c}, typeof({c})" for c in columns)
            found[table] = raw.execute(f"SELECT {typed} FROM {table} ORDER BY 1").fetchall()
    return found


def test_driver_statements_write_the_rows_sqlalchemy_writes(tmp_path: Path) -> None:
    # Arrange: two fresh databases
    fast, slow = tmp_path / "driver.db", tmp_path / "sqlalchemy.db"
    repo = Repository(create_database(f"sqlite:///{fast}"), now_ms=lambda: WRITTEN_MS)
    reference = create_database(f"sqlite:///{slow}")
    # Act: the same writes through the repository's transaction and through SQLAlchemy
    with repo.transaction() as tx:
        for decision in DECISIONS:
            decision_id = tx.append_decision(decision)
            for order in ORDERS if decision is DECISIONS[0] else []:
                assert tx.record_order_intent(order, str(decision_id))
        tx.set_control("last_bar", "1733011200000")
        tx.set_control("last_bar", "1733011260000")
    with reference.write_connection() as connection:
        _through_sqlalchemy(connection)
    # Assert: identical rows, and they read back as written
    assert _rows(fast) == _rows(slow)
    assert _rows(fast)["orders"]
    assert repo.decisions()[0] == DECISIONS[0]
    assert repo.get_order(ORDERS[0].client_order_id) == ORDERS[0]
    assert not repo.record_order_intent(ORDERS[1])  # the same id again: not a second row
