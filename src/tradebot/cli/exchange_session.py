"""What ``tradebot exchange check`` does; ``exchange.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports ccxt (1.1 s of CPU before ``exchange --help`` answered without it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from tradebot.config import Config, load_config
from tradebot.domain.errors import ConfigError
from tradebot.exchange.ccxt.check import CheckReport, run_check
from tradebot.exchange.ccxt.credentials import from_config
from tradebot.exchange.ccxt.factory import (
    ConnectSettings,
    Venue,
    connect,
    settings_from_config,
)


def start_check(
    path: Path | None,
    url: str | None,
    venue: str | None,
) -> None:
    """The work of ``exchange.check``, which declares its options and help."""
    try:
        config = load_config(path)
        overrides: dict[str, Any] = {"websockets": False, **({"sandbox_url": url} if url else {})}
        settings = settings_from_config(config, venue_id=venue, **overrides)
        report = asyncio.run(_check(config, settings, venue))
    except ConfigError as e:
        typer.echo(f"config: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo("\n".join(report.lines()))
    if not report.reachable and settings.venue is Venue.SANDBOX:
        typer.echo(_start_sandbox_hint(config, url, settings.sandbox_url))
    if not report.ok:
        raise typer.Exit(1)


def _start_sandbox_hint(config: Config, url: str | None, where: str) -> str:
    # paper mode trades the local sandbox; a standalone check needs one running
    if url is not None:
        return f"nothing answers at {where}: is `tradebot sandbox` running there?"
    sandbox = config.venues[0].connection.sandbox
    return (
        f"nothing answers at {where}: paper mode trades the local sandbox exchange; start "
        f"`tradebot sandbox --port {sandbox.port}` in another terminal and check again "
        "(`tradebot run --mode paper` starts its own inside the bot and needs no check)"
    )


async def _check(config: Config, settings: ConnectSettings, venue: str | None) -> CheckReport:
    connector = connect(settings, from_config(config, venue=venue))
    where = settings.sandbox_url if settings.venue == "sandbox" else settings.venue.value
    try:
        return await run_check(connector, f"{settings.exchange} ({settings.venue.value}: {where})")
    finally:
        await connector.close()
