"""`tradebot locks` on a real SQLite file: what it lists, lifts and refuses."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.domain.locks import ALL_SYMBOLS, Lock
from tradebot.state import Repository, create_database

HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
COOLDOWN = Lock("BTC/USDT", START + 10 * HOUR, "cooldown", "cooldown of 3 bars", START + 7 * HOUR)
GUARD = Lock(ALL_SYMBOLS, START + 20 * HOUR, "stoploss_guard", "2 stop-losses", START + 8 * HOUR)
ENDED = Lock("BTC/USDT", START + 5 * HOUR, "cooldown", "cooldown of 1 bars", START + 4 * HOUR)


def saved(tmp_path: Path, last_bar_ms: int) -> Path:
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    with repo.transaction() as tx:
        for lock in (COOLDOWN, GUARD, ENDED):
            tx.record_lock(lock)
        tx.set_last_bar_ts("BTC/USDT", "1h", last_bar_ms)
    return db


def cli(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["locks", *args, "--db", str(db)])
    return result.exit_code, result.output


def test_locks_lists_those_in_force_at_the_next_bar_and_all_with_all(tmp_path: Path) -> None:
    db = saved(tmp_path, START + 6 * HOUR)  # the next bar opens at 07:00

    code, listed = cli(db)
    _, everything = cli(db, "--all")

    assert code == 0
    assert "locks in force at the bar opening 2024-01-01 07:00 UTC (times UTC)" in listed
    assert rows(listed) == [
        ["BTC/USDT", "cooldown", "2024-01-01 10:00", "in force", "cooldown of 3"],
        ["all symbols", "stoploss_guard", "2024-01-01 20:00", "in force", "2 stop-losses"],
    ]
    assert rows(everything)[2] == ["BTC/USDT", "cooldown", "2024-01-01 05:00", "ended",
                                   "cooldown of 1"]  # fmt: skip


def rows(table: str) -> list[list[str]]:
    """The first line of each row of a printed table, cell by cell."""
    lines = [line for line in table.splitlines() if line.startswith("│") and "20" in line]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]


def test_unlock_a_symbol_leaves_the_lock_on_all_and_says_so(tmp_path: Path) -> None:
    db = saved(tmp_path, START + 6 * HOUR)

    code, out = cli(db, "unlock", "BTC/USDT")

    assert code == 0
    assert "lifted 2: cooldown locks BTC/USDT until 2024-01-01 10:00 UTC" in out
    assert "BTC/USDT is still locked: stoploss_guard locks all symbols until" in out
    assert "`tradebot locks unlock --all` lifts it" in out
    code, out = cli(db, "unlock", "--all")
    assert "lifted 1: stoploss_guard locks all symbols" in out
    assert "no lock to lift" in cli(db, "unlock", "--all")[1]


def test_unlock_needs_one_symbol_or_all(tmp_path: Path) -> None:
    db = saved(tmp_path, START)

    for args in ([], ["BTC/USDT", "--all"]):
        code, out = cli(db, "unlock", *args)
        assert code == 2
        assert "name one SYMBOL, or --all to lift every lock" in out


def test_locks_on_a_missing_database_is_an_error(tmp_path: Path) -> None:
    code, out = cli(tmp_path / "nothing.db")

    assert code == 2
    assert "error:" in out
