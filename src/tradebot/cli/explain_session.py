"""What ``tradebot explain`` does; ``explain.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports the database (0.8 s of CPU before ``explain --help`` answered without it).
"""

from __future__ import annotations

from pathlib import Path

import typer

from tradebot.cli.setup import configure, existing_repository
from tradebot.domain.errors import TradebotError
from tradebot.monitoring.explain import explain as explanation


def start_explain(
    what: str,
    symbol: str | None,
    config_path: Path | None,
    db: Path | None,
) -> None:
    """The work of ``explain.explain``, which declares its options and help."""
    try:
        repo = existing_repository(configure(config_path, None, db))
        lines = explanation(what, repo, symbol)
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo("\n".join(lines))
