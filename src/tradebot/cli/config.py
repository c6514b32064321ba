"""``tradebot config show [PATH]`` and ``tradebot config validate PATH``.

``show`` prints the config the bot would run with: every default filled in and every
``${ENV_VAR}`` resolved, with secrets masked. ``validate`` checks a file, including that every
symbol's strategy (and each ensemble member) exists and accepts its params, and exits 1 with
every problem listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from tradebot.config import Config, load_config
from tradebot.domain.errors import ConfigError
from tradebot.orchestrator.assembly import build_allocator, build_strategy, check_overrides


def register(app: typer.Typer) -> None:
    """Add the ``config`` command group to ``app``."""
    config_app = typer.Typer(help="Show or validate a config file.", no_args_is_help=True)
    config_app.command("show")(show)
    config_app.command("validate")(validate)
    app.add_typer(config_app, name="config")


def show(
    path: Annotated[
        Path | None, typer.Argument(help="Config YAML; omit for the built-in default.")
    ] = None,
) -> None:
    """Print the resolved config as YAML, secrets masked as **********."""
    config = _load_or_exit(path)
    text = yaml.safe_dump(config.model_dump_masked(), sort_keys=False, allow_unicode=True)
    typer.echo(text, nl=False)


def validate(
    path: Annotated[Path, typer.Argument(help="Config YAML to check.")],
) -> None:
    """Check a config file; exit 1 and list every problem if it is wrong."""
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
