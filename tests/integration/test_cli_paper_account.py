"""A paper session's account outlives the process: ``tradebot run --mode paper`` twice.

The embedded sandbox keeps its account (balances, orders, trades, the replay clock) in a
file beside the bot's database, so a second run continues where the first stopped;
``--fresh`` moves both aside and starts over. A start that cannot trade (a database
without its account, a halted kill switch) exits non-zero, naming the reason and the
command that fixes it. All through the real CLI, embedded sandbox and SQLite file.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from processes import NO_KEYS
from tradebot.cli import build_app
from tradebot.state import KillSwitchLevel, Repository, create_database

BARS = "30"  # the default strategy enters at the 15th bar of the bundled sample: one fill


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), env=NO_KEYS)
    return result.exit_code, result.output


def paper(tmp_path: Path, *flags: str) -> tuple[int, str]:
    """``tradebot run --mode paper --bars 30`` on ``bot.db`` with the sandbox on a free port."""
    return invoke(*_paper_args(tmp_path), "--db", str(tmp_path / "bot.db"), *flags)


def _paper_args(tmp_path: Path) -> list[str]:
    config = tmp_path / "config.yaml"
    config.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    return ["run", "--mode", "paper", "--bars", BARS, "-c", str(config)]


def _row(output: str, name: str) -> str:
    line = next(line for line in output.splitlines() if f" {name} " in line)
    return line.split("│")[2].strip()


def _repo(db: Path) -> Repository:
    return Repository(create_database(f"sqlite:///{db}"))


def test_run_paper_twice_on_the_default_database_continues_the_same_account_and_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: a first session on the default database (data/tradebot.db) that bought: a
    # position and its resting stop are left
    monkeypatch.chdir(tmp_path)
    code, first = invoke(*_paper_args(tmp_path))
    assert code == 0, first
    repo = _repo(tmp_path / "data" / "tradebot.db")
    fills, last_ts = len(repo.fills()), repo.latest_snapshot()
    assert fills >= 1
    assert last_ts is not None
    # Act
    code, second = invoke(*_paper_args(tmp_path))
    # Assert: it says it continues, trades every bar, and the exchange agrees with the books
    assert code == 0, second
    assert "paper account: continuing data/tradebot.sandbox.json" in " ".join(second.split())
    assert _row(second, "cycles") == BARS
    assert _row(second, "discrepancies") == "0"
    assert repo.kill_switch() is KillSwitchLevel.ACTIVE
    assert repo.reconciliation_events() == []
    snapshots = repo.snapshots()
    assert len(snapshots) == 2 * int(BARS)
    assert snapshots[int(BARS)].ts_ms == last_ts.ts_ms + 3_600_000  # the clock went on
    assert len(repo.fills()) >= fills


def test_run_paper_first_run_says_the_account_is_new_and_where_it_is_kept(
    tmp_path: Path,
) -> None:
    # Act
    code, output = paper(tmp_path)
    # Assert
    assert code == 0, output
    assert "paper account: new" in output
    assert (tmp_path / "bot.sandbox.json").is_file()


def test_run_paper_fresh_moves_the_old_session_aside_and_starts_over(tmp_path: Path) -> None:
    # Arrange
    code, first = paper(tmp_path)
    assert code == 0, first
    old = _repo(tmp_path / "bot.db")
    first_bar = old.snapshots()[0].ts_ms
    old_fills = len(old.fills())
    # Act
    code, output = paper(tmp_path, "--fresh")
    # Assert: the old database and account are kept under new names, and said so
    assert code == 0, output
    kept = sorted(
        p.name
        for p in tmp_path.iterdir()
        if ".old-" in p.name and not p.name.endswith(("-wal", "-shm"))  # SQLite's companions
    )
    assert [name.split(".old-")[0] for name in kept] == ["bot.db", "bot.sandbox.json"]
    for name in kept:
        assert name in output.replace("\n", "")
    assert len(_repo(tmp_path / kept[0]).fills()) == old_fills
    new = _repo(tmp_path / "bot.db")
    assert new.snapshots()[0].ts_ms == first_bar  # the replay clock started over
    assert _row(output, "cycles") == BARS
    assert "paper account: new" in output


def test_run_paper_database_without_its_account_exits_nonzero_naming_the_fix(
    tmp_path: Path,
) -> None:
    # Arrange: the account file is lost; the database remembers orders the sandbox won't
    code, first = paper(tmp_path)
    assert code == 0, first
    (tmp_path / "bot.sandbox.json").unlink()
    # Act
    code, output = paper(tmp_path)
    # Assert: refused before trading, with the command that starts over
    assert code != 0, output
    flat = " ".join(output.split())
    assert "bot.sandbox.json" in flat
    found = re.search(r"`(tradebot run [^`]*--fresh)`", flat)
    assert found is not None, output
    args = shlex.split(found.group(1))[1:]
    code, fixed = invoke(*args)
    assert code == 0, fixed
    assert _row(fixed, "cycles") == BARS


def test_run_paper_halted_database_exits_nonzero_with_reason_and_resume_command(
    tmp_path: Path,
) -> None:
    # Arrange: a session, then `tradebot stop`
    code, first = paper(tmp_path)
    assert code == 0, first
    db = tmp_path / "bot.db"
    assert invoke("stop", "--db", str(db))[0] == 0
    # Act
    code, output = paper(tmp_path)
    # Assert
    assert code != 0, output
    flat = " ".join(output.split())
    assert "HALTED" in flat
    assert "tradebot stop" in flat  # why: who set it
    assert re.search(rf"`tradebot resume [^`]*--db {re.escape(str(db))}` lets it trade", flat)
    assert "bars replayed" not in output  # nothing replayed while halted


def test_run_paper_account_kept_for_other_data_exits_nonzero_naming_the_fix(
    tmp_path: Path,
) -> None:
    # Arrange: a session on the bundled 2024 sample, then a 2025 file of the same market
    code, first = paper(tmp_path)
    assert code == 0, first
    rows = [f"{1_735_689_600_000 + i * 3_600_000},100,101,99,100,1" for i in range(500)]
    other = tmp_path / "candles.csv.gz"
    other.write_bytes(
        gzip.compress(("timestamp,open,high,low,close,volume\n" + "\n".join(rows)).encode())
    )
    # Act
    code, output = paper(tmp_path, "--data", str(other))
    # Assert
    flat = " ".join(output.split())
    assert code == 2, output
    assert "does not fit this run's data" in flat
    assert f"--data {other} --bars {BARS} --fresh`" in flat


def test_run_paper_realtime_on_a_halted_database_exits_nonzero_instead_of_idling(
    tmp_path: Path,
) -> None:
    # Arrange: a new database a person halted (`tradebot stop`) before the bot's first start
    db = tmp_path / "bot.db"
    _repo(db)
    assert invoke("stop", "--db", str(db))[0] == 0
    config = tmp_path / "config.yaml"
    config.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    command = [sys.executable, "-c", "from tradebot.cli import main; main()", "run"]
    args = ["--mode", "paper", "-c", str(config), "--db", str(db), "--speed", "3600"]
    # Act: real time, as a service would start it; it must not wait for a signal
    done = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **NO_KEYS},
        check=False,
    )
    # Assert
    flat = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, flat
    assert "HALTED (tradebot stop)" in flat
    assert f"--db {db}` lets it trade again" in flat
