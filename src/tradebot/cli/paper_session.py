"""The paper session of ``tradebot run``: its account, and the commands a refusal names.

A message that says how to fix a refused or halted run names the exact command: this run's
own command line with ``--fresh`` added, or ``tradebot resume`` on the same database.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from tradebot.config import Config
from tradebot.domain.errors import DataError, StateError
from tradebot.orchestrator.halt import halt_message
from tradebot.orchestrator.paper_account import PaperAccount
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.state import Repository


@dataclass(frozen=True, slots=True)
class Fixes:
    """The commands a halted run names: resume, and (paper) start over."""

    resume: str
    fresh: str | None

    def check(self, repo: Repository) -> None:
        """Raise when the bot is halted, saying why and what fixes it."""
        message = halt_message(repo, self.resume, self.fresh)
        if message is not None:
            raise StateError(message)


@dataclass(frozen=True, slots=True)
class Session:
    """A paper run's account file and the commands a halt names."""

    account: PaperAccount | None
    fixes: Fixes


def run_command(
    config_path: Path | None,
    config: Config,
    data: Path | None,
    bars: int | None,
    replay: bool,
    speed: float,
) -> str:
    """This run's command line, for a message that says how to run it differently."""
    words = ["tradebot", "run", "--mode", config.exchange.mode]
    if config_path is not None:
        words += ["-c", str(config_path)]
    if config.database.url is None:
        words += ["--db", str(config.database.path)]
    if data is not None:
        words += ["--data", str(data)]
    if bars is not None:
        words += ["--bars", str(bars)]
    elif replay:
        words.append("--replay")
    elif speed != 1.0:
        words += ["--speed", f"{speed:g}"]
    return shlex.join(words)


def resume_command(config_path: Path | None, config: Config) -> str:
    """``tradebot resume`` on this run's database."""
    words = ["tradebot", "resume"]
    if config_path is not None:
        words += ["-c", str(config_path)]
    if config.database.url is None:
        words += ["--db", str(config.database.path)]
    return shlex.join(words)


def tell_account(account: PaperAccount, config: Config, console: Console) -> None:
    """Say whether the paper account is new or continued, and what ``--fresh`` moved."""
    starting = f"{config.trading.starting_cash} {config.trading.quote_currency}"
    for line in account.lines(starting):
        console.print(line, highlight=False, soft_wrap=True)


def sandbox_server(sandbox: SandboxConfig, fixes: Fixes) -> SandboxServer:
    """The embedded sandbox; a kept account is restored here.

    Raises:
        StateError: the kept account's clock lies outside this run's data file.
    """
    try:
        return SandboxServer(sandbox)
    except DataError as exc:
        if sandbox.snapshot_path is None or fixes.fresh is None:
            raise
        raise StateError(
            f"the paper account {sandbox.snapshot_path} does not fit this run's data ({exc}): "
            f"was it kept for another market or file? `{fixes.fresh}` starts a new account"
        ) from exc
