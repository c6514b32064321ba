"""The paper session of ``tradebot run``: its account, and the commands a refusal names.

A message that says how to fix a refused or halted run names the exact command: this run's
own command line with ``--fresh`` added, or ``tradebot resume`` on the same database.
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from tradebot.backtest.dataset import bundled_sample
from tradebot.config import Config
from tradebot.data.identity import symbol_from_name
from tradebot.domain.errors import ConfigError, DataError, StateError
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
    data: list[Path],
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
    for path in data:
        words += ["--data", str(path)]
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


@asynccontextmanager
async def sandbox_server(sandbox: SandboxConfig, fixes: Fixes) -> AsyncIterator[SandboxServer]:
    """The embedded sandbox, started; a kept account is restored here (a mirror's once
    its source has answered, at the start).

    Raises:
        StateError: the kept account's clock lies outside this run's data file or candles.
    """
    try:
        server = SandboxServer(sandbox)
        await server.start()
    except DataError as exc:
        if sandbox.snapshot_path is None or fixes.fresh is None:
            raise
        raise StateError(
            f"the paper account {sandbox.snapshot_path} does not fit this run's data ({exc}): "
            f"was it kept for another market, file or market_data? `{fixes.fresh}` starts a "
            "new account"
        ) from exc
    try:
        yield server
    finally:
        await server.stop()


def data_files(config: Config, data: list[Path]) -> dict[str, Path]:
    """The candle file the sandbox replays for each symbol traded: the ``--data`` files
    (each file's market from its name), else each symbol's bundled sample.

    Raises:
        ConfigError: a file holds a market not traded, two files hold one market, or a
            market traded has no file; the message names the file and the fix.
    """
    symbols = config.trading.all_symbols
    if not data:
        return {s: Path(str(bundled_sample(s, config.trading.timeframe))) for s in symbols}
    if len(data) == 1 and len(symbols) == 1 and symbol_from_name(data[0].name) is None:
        return {symbols[0]: data[0]}  # a file whose name does not say: the one market traded
    files: dict[str, Path] = {}
    for path in data:
        found = symbol_from_name(path.name)
        if found is None or found not in symbols:
            # the sandbox lists each file under its market: another market's file would be
            # traded with the wrong price step and lot size
            raise ConfigError(f"{path.name} {_not_traded(found, symbols)}")
        if found in files:
            raise ConfigError(f"two --data files hold {found}: {files[found]} and {path}")
        files[found] = path
    missing = [s for s in symbols if s not in files]
    if missing:
        raise ConfigError(f"no --data file for {', '.join(missing)}: pass one per symbol")
    return files


def _not_traded(found: str | None, symbols: Sequence[str]) -> str:
    held = f"holds {found} (from its name)" if found else "does not name its market"
    if len(symbols) == 1:
        fix = (
            f"set trading.symbol: {found} in a config (-c) to paper-trade it"
            if found
            else "name it like binance_BTC-USDT_1h.csv.gz"
        )
        return f"{held} but trading.symbol is {symbols[0]}: {fix}"
    return (
        f"{held} but trading.symbols is {', '.join(symbols)}: name each file like "
        "binance_ETH-USDT_1h.csv.gz and list its market in trading.symbols (in a config, -c)"
    )
