"""One report folder per backtest run, and a ``latest`` link to the newest.

A second backtest used to overwrite the first one's report: comparing two strategies meant
copying folders by hand. Each run now gets ``<root>/<strategy>_<BASE-QUOTE>_<timeframe>_<UTC
time>/`` and ``<root>/latest`` points at the newest (a relative symlink; where the file system
has none, ``latest.txt`` names the folder).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

LATEST = "latest"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def new_run_folder(
    root: Path, strategy: str, symbol: str, timeframe: str, now: datetime | None = None
) -> Path:
    """Create and return a fresh folder for one run under ``root`` (never an existing one)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stem = "_".join(
        _UNSAFE.sub("-", part).strip("-")
        for part in (
            strategy,
            symbol.replace("/", "-"),
            timeframe,
            moment.strftime("%Y%m%d-%H%M%S"),
        )
    )
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = root / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # two runs in one second: number the second
        return folder
    raise FileExistsError(f"{root}: 999 report folders named {stem}; clean the folder up")


def link_latest(root: Path, folder: Path) -> Path:
    """Point ``root/latest`` at ``folder`` (replaced atomically); return the link's path."""
    link = root / LATEST
    temporary = root / f".{LATEST}.{os.getpid()}"
    try:
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(folder.name, target_is_directory=True)
        temporary.replace(link)
    except OSError:
        temporary.unlink(missing_ok=True)
        text = root / f"{LATEST}.txt"
        text.write_text(folder.name + "\n", encoding="utf-8")
        return text
    return link
