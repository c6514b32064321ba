"""What ``tradebot locks`` and ``locks unlock`` do; ``locks.py`` declares them.

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports the database and the engine's controls (1.2 s of CPU before ``locks --help``
answered without them).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tradebot.cli.setup import configure, open_repository
from tradebot.config import Config
from tradebot.domain.errors import TradebotError
from tradebot.domain.locks import ALL_SYMBOLS, utc_text
from tradebot.domain.market import timeframe_to_ms
from tradebot.orchestrator.controls import Operator, lift_locks
from tradebot.state import Repository
from tradebot.state.rows import SavedLock


def start_locks(
    every: bool,
    config_path: Path | None,
    db: Path | None,
) -> None:
    """The work of ``locks.locks``, which declares its options and help."""
    repo, config = _open(config_path, db)
    next_bar = _next_bar_ms(repo, config)
    saved = repo.locks(None if every else next_bar, lifted=every)
    Console().print(_table(saved, next_bar, every))


def start_unlock(
    symbol: str | None,
    every: bool,
    config_path: Path | None,
    db: Path | None,
) -> None:
    """The work of ``locks.unlock``, which declares its options and help."""
    if (symbol is None) == (not every):
        typer.echo("error: name one SYMBOL, or --all to lift every lock", err=True)
        raise typer.Exit(2)
    repo, config = _open(config_path, db)
    lifted = lift_locks(repo, None if every else symbol, Operator(getpass.getuser(), channel="cli"))
    what = "every lock" if every else f"the locks on {symbol}"
    if not lifted:
        typer.echo(f"no lock to lift: {what} were lifted before, or there were none")
    else:
        typer.echo(f"lifted {len(lifted)}: " + "; ".join(s.lock.describe() for s in lifted))
    left = [s.lock for s in repo.locks(_next_bar_ms(repo, config))]
    if symbol is not None and (held := [k for k in left if k.symbol == ALL_SYMBOLS]):
        typer.echo(
            f"{symbol} is still locked: {held[0].describe()}. "
            "`tradebot locks unlock --all` lifts it"
        )


def _open(config_path: Path | None, db: Path | None) -> tuple[Repository, Config]:
    try:
        config = configure(config_path, None, db)
        return open_repository(config, create=False), config
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _next_bar_ms(repo: Repository, config: Config) -> int | None:
    """Open time of the next bar the bot decides (None: it decided none yet)."""
    timeframe = config.trading.timeframe
    last = [repo.last_bar_ts(s, timeframe) for s in config.trading.all_symbols]
    known = [ts for ts in last if ts is not None]
    return max(known) + timeframe_to_ms(timeframe) if known else None


def _table(saved: list[SavedLock], next_bar: int | None, every: bool) -> Table:
    when = "" if next_bar is None else f" at the bar opening {utc_text(next_bar)}"
    title = ("every saved lock" if every else f"locks in force{when}") + " (times UTC)"
    table = Table(title=title)
    for column in ("symbol", "protection", "until", "state"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for s in saved:
        lock = s.lock
        state = "in force"
        if s.removed_ts_ms is not None:
            state = f"lifted by {s.removed_by}"
        elif next_bar is not None and lock.until_ms <= next_bar:
            state = "ended"
        until = utc_text(lock.until_ms).removesuffix(" UTC")
        table.add_row(lock.subject, lock.protection, until, state, lock.reason)
    if not saved:
        table.caption = "no lock: every symbol may enter"
    return table
