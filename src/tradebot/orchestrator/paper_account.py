"""A paper session's account, kept beside its database so a second run continues it.

The embedded sandbox is the paper bot's exchange. Its account (balances, orders, trades and
the replay clock) used to live only in memory, so a second ``tradebot run --mode paper`` on
the same database met an exchange that had forgotten every order the database remembered,
halted on the differences and ran nothing. The sandbox's snapshot file now sits beside the
database (``bot.db`` → ``bot.sandbox.json``) and is restored at start: the second run goes
on with the same account and clock. ``--fresh`` moves both files aside (renamed, never
deleted) and starts over. A database and an account file that do not belong together
(one of them lost or moved) are refused before anything trades, with the command that
starts over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tradebot.config import Config
from tradebot.domain.errors import DataError, StateError
from tradebot.sandbox.snapshot import SavedAccount, read_account
from tradebot.state import inspect_database
from tradebot.state.archive import kept_name, move_database_aside
from tradebot.state.inspection import sqlite_file
from tradebot.state.url import database_url

ACCOUNT_SUFFIX = ".sandbox.json"


def account_path(config: Config) -> Path | None:
    """The sandbox account file of the configured database; None for a database server."""
    database = sqlite_file(database_url(config.database.sqlalchemy_url))
    if database is None:
        return None
    return database.with_name(database.stem + ACCOUNT_SUFFIX)


@dataclass(frozen=True, slots=True)
class PaperAccount:
    """Where the paper account is kept, what it held at start, and what ``--fresh`` moved."""

    path: Path | None
    saved: SavedAccount | None
    moved: list[tuple[Path, Path]] = field(default_factory=list)

    @property
    def is_continued(self) -> bool:
        """True when the run goes on with an account an earlier run left."""
        return self.saved is not None

    def lines(self, starting: str) -> list[str]:
        """What the console says about it (``starting``: the new account's balance)."""
        said = [f"moved aside: {old} -> {new}" for old, new in self.moved]
        if self.path is None:
            said.append(
                f"paper account: new, {starting}, not kept (the database is not a SQLite "
                "file): use a new database for each paper run"
            )
        elif self.saved is None:
            said.append(
                f"paper account: new, {starting}, kept in {self.path} "
                "(the next run continues it; --fresh starts over)"
            )
        else:
            clock = datetime.fromtimestamp(self.saved.now_ms / 1000, tz=UTC)
            held = ", ".join(f"{a} {q.normalize():f}" for a, q in self.saved.balances.items() if q)
            said.append(
                f"paper account: continuing {self.path} (replay clock "
                f"{clock:%Y-%m-%d %H:%M} UTC; {held or 'nothing held'}; "
                f"{self.saved.trades} fills so far); --fresh starts over"
            )
        return said


def open_paper_account(config: Config, *, fresh: bool, fresh_command: str) -> PaperAccount:
    """Check that the database and its sandbox account belong together; ``fresh`` first
    moves both aside. Call it holding the instance lock.

    ``fresh_command`` is the command that starts over, named in every refusal.

    Raises:
        StateError: one of the two holds a history the other lacks, or the account file
            cannot be read; or ``fresh`` on a database that is not a SQLite file.
    """
    path = account_path(config)
    moved: list[tuple[Path, Path]] = []
    if fresh:
        moved = _move_aside(config, path)
    try:
        saved = None if path is None else read_account(path)
    except DataError as e:
        raise StateError(f"{e}. `{fresh_command}` moves it aside and starts over") from e
    inspection = inspect_database(config.database.sqlalchemy_url)
    if saved is None and not inspection.is_empty:
        where = "is missing" if path is not None else "is not kept for a database server"
        raise StateError(
            f"the database {inspection.location} holds a paper session ({inspection.orders} "
            f"orders, {inspection.fills} fills) but its sandbox account {path or ''} {where}: "
            "the embedded exchange would not know those orders and fills, and the bot would "
            f"halt on the differences. `{fresh_command}` moves the database aside and starts "
            "a new paper account (or put the account file back)"
        )
    if saved is not None and inspection.is_empty and (saved.orders or saved.trades):
        raise StateError(
            f"the sandbox account {path} holds {saved.orders} orders and {saved.trades} fills "
            f"but the database {inspection.location} has none of them: the bot would trade "
            f"blind. `{fresh_command}` moves the account aside and starts over (or point --db "
            "at the session's database)"
        )
    return PaperAccount(path, saved, moved)


def _move_aside(config: Config, path: Path | None) -> list[tuple[Path, Path]]:
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = move_database_aside(config.database.sqlalchemy_url, stamp)
    if path is not None and path.exists():
        kept = kept_name(path, stamp)
        path.rename(kept)
        moved.append((path, kept))
    return moved
