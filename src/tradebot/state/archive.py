"""Move a SQLite database aside, whole, so a new one can start in its place.

Starting over (``tradebot run --mode paper --fresh``) must not lose the old session
silently: the file is renamed, never deleted, and its journal companions (``-wal``,
``-shm``, ``-journal``) go with it under the same new name, so SQLite still opens the
kept copy with everything it had committed. The caller holds the instance lock, so no bot
is writing to the file while it moves.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL

from tradebot.domain.errors import StateError
from tradebot.state.inspection import sqlite_file
from tradebot.state.url import database_url

_COMPANIONS = ("-wal", "-shm", "-journal")


def kept_name(path: Path, stamp: str) -> Path:
    """Where ``path`` is kept when moved aside at ``stamp``: ``bot.db.old-<stamp>``."""
    return path.with_name(f"{path.name}.old-{stamp}")


def move_database_aside(url_or_path: str | Path | URL, stamp: str) -> list[tuple[Path, Path]]:
    """Rename the database file and its companions to ``<name>.old-<stamp>``.

    Returns each ``(old, new)`` path moved (nothing when there is no file yet).

    Raises:
        StateError: the database is not a SQLite file (a server's database cannot be
            moved aside here), or a kept name is already taken.
    """
    path = sqlite_file(database_url(url_or_path))
    if path is None:
        raise StateError(
            "only a SQLite database file can be moved aside to start over; point --db at "
            "a new file instead"
        )
    kept = kept_name(path, stamp)
    moves = [(path, kept)] + [
        (path.with_name(path.name + s), kept.with_name(kept.name + s)) for s in _COMPANIONS
    ]
    present = [(old, new) for old, new in moves if old.exists()]
    taken = [new for _, new in present if new.exists()]
    if taken:
        raise StateError(f"{taken[0]} already exists: nothing was moved; try again in a second")
    for old, new in present:
        old.rename(new)
    return present
