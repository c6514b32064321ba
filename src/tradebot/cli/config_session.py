"""What ``tradebot config show | validate`` do; ``config.py`` declares them.

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports the strategies and pandas to check a config (0.9 s of CPU before ``config --help``
answered without them).
"""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from tradebot.config import Config, load_config
from tradebot.domain.errors import ConfigError
from tradebot.orchestrator.assembly import build_allocator, build_strategy, check_overrides


def start_show(
    path: Path | None,
) -> None:
    """The work of ``config.show``, which declares its options and help."""
    config = _load_or_exit(path)
    text = yaml.safe_dump(config.model_dump_masked(), sort_keys=False, allow_unicode=True)
    typer.echo(text, nl=False)


def start_validate(
    path: Path,
) -> None:
    """The work of ``config.validate``, which declares its options and help."""
    config = _load_or_exit(path)
    symbols = config.trading.all_symbols
    try:
        check_overrides(config, symbols)
        build_allocator(config, symbols)
        for symbol in symbols:
            build_strategy(config, symbol)
    except ConfigError as e:
        typer.echo(f"{path}: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{path}: valid (mode {config.exchange.mode}, {', '.join(symbols)} "
        f"{config.trading.timeframe}, "
        f"strategy {config.strategy.name})"
    )


def _load_or_exit(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
