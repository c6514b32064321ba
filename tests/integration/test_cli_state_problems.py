"""State problems at start: a clear error naming the path and what to do, the file untouched.

Each case is a real path on disk handed to ``tradebot run`` (the paper replay, so nothing
else could fail first): a folder, a file where a folder belongs, a folder nobody may write
to, a text file, another program's SQLite database, and a damaged tradebot database.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from processes import NO_KEYS
from tradebot.cli import build_app
from tradebot.domain.orders import ClientOrderId, Order, OrderSide, OrderType
from tradebot.state import Repository, create_database


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(build_app(), list(args), env=NO_KEYS)
    crashed = None if isinstance(result.exception, SystemExit) else result.exception
    return result.exit_code, result.output, crashed


def run_replay(tmp_path: Path, db: Path) -> tuple[int, str, BaseException | None]:
    config = tmp_path / "config.yaml"
    config.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    replay = ("run", "--mode", "paper", "--replay", "--bars", "1")
    return invoke(*replay, "-c", str(config), "--db", str(db))


def folder(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    return tmp_path / "state"


def file_as_folder(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("not a folder\n", encoding="utf-8")
    return tmp_path / "notes.txt" / "bot.db"


def unwritable_folder(_tmp_path: Path) -> Path:
    # A folder no user, root included, may create files in (a chmod'ed folder would not
    # stop root, who runs this suite on CI).
    return Path(f"/proc/{os.getpid()}") / "tradebot" / "bot.db"


def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    path.write_text("these are my notes, not a database\n" * 10, encoding="utf-8")
    return path


def foreign_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO customers (name) VALUES ('Ada')")
    connection.close()
    return path


def damaged_tradebot_db(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    database = create_database(path)
    Repository(database).set_control("note", "x" * 20_000)  # spills onto overflow pages
    database.close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[-2 * page : -page] = b"\xa5" * page  # one overflow page of garbage: a disk error
    path.write_bytes(bytes(data))
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "folder": (folder, "is a folder"),
    "file_as_folder": (file_as_folder, "is a file, not a folder"),
    "unwritable_folder": (unwritable_folder, "read-only"),
    "text_file": (text_file, "not a SQLite database"),
    "foreign_sqlite": (foreign_sqlite, "another program"),
    "damaged_tradebot_db": (damaged_tradebot_db, "integrity check failed"),
}


@pytest.mark.parametrize("case", CASES)
def test_run_on_an_unusable_database_path_names_it_and_leaves_it_untouched(
    tmp_path: Path, case: str
) -> None:
    # Arrange
    make, why = CASES[case]
    db = make(tmp_path)
    before = db.read_bytes() if db.is_file() else None
    # Act
    code, output, crashed = run_replay(tmp_path, db)
    # Assert
    text = " ".join(output.split())
    assert crashed is None, f"raw traceback: {crashed!r}"
    assert code == 2, output
    assert why in text
    assert str(db) in text
    if before is not None:
        assert db.read_bytes() == before, "the file was written to"


def test_status_on_a_file_that_is_not_a_database_names_it_and_leaves_it_untouched(
    tmp_path: Path,
) -> None:
    # Arrange
    db = text_file(tmp_path)
    before = db.read_bytes()
    # Act
    code, output, crashed = invoke("status", "--db", str(db))
    # Assert
    assert crashed is None, f"raw traceback: {crashed!r}"
    assert code == 2
    assert "not a SQLite database" in " ".join(output.split())
    assert db.read_bytes() == before


def test_state_rebuild_refuses_a_database_that_holds_orders(tmp_path: Path) -> None:
    # Arrange: a database with one saved order; a sandbox that is never reached
    db = tmp_path / "bot.db"
    order = Order(ClientOrderId("tb-BTCUSDT-1-en"), "BTC/USDT", OrderSide.BUY, OrderType.MARKET,
                  Decimal("0.1"))  # fmt: skip
    Repository(create_database(db)).record_order_intent(order)
    config = tmp_path / "config.yaml"
    config.write_text("exchange:\n  sandbox:\n    embedded: false\n    port: 9\n", "utf-8")
    # Act
    code, output, crashed = invoke("state", "rebuild", "-c", str(config), "--db", str(db))
    # Assert
    assert crashed is None, f"raw traceback: {crashed!r}"
    assert code == 2
    assert "already holds 1 orders and 0 fills" in " ".join(output.split())
    assert [o.client_order_id for o in Repository(create_database(db)).orders()] == [
        order.client_order_id
    ]


def test_state_rebuild_refuses_the_embedded_sandbox(tmp_path: Path) -> None:
    # Act
    code, output, _ = invoke("state", "rebuild", "--db", str(tmp_path / "bot.db"))
    # Assert
    assert code == 2
    assert "embedded" in output
    assert not (tmp_path / "bot.db").exists()
