"""``tradebot new-strategy NAME``: write a documented, working strategy and a config for it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.config import parse_config
from tradebot.config.loader import default_config_text
from tradebot.domain.errors import ConfigError
from tradebot.strategy.template import check_name, class_name, render


def register(app: typer.Typer) -> None:
    """Add ``new-strategy`` to ``app``."""
    app.command("new-strategy")(new_strategy)


def new_strategy(
    name: Annotated[str, typer.Argument(help="snake_case name, e.g. my_momentum.")],
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the strategy and its config.")
    ] = Path("strategies"),
    force: Annotated[bool, typer.Option(help="Overwrite files that exist.")] = False,
) -> None:
    """Write FOLDER/NAME.py (a strategy that already trades) and FOLDER/NAME.yaml (its config)."""
    try:
        check_name(name)
        code, config = folder / f"{name}.py", folder / f"{name}.yaml"
        existing = [str(p) for p in (code, config) if p.exists()]
        if existing and not force:
            raise ConfigError(f"{', '.join(existing)} exist(s): pass --force to overwrite")
        spec = f"{code.as_posix()}:{class_name(name)}"
        config_text = strategy_config_text(spec, name)
        folder.mkdir(parents=True, exist_ok=True)
        code.write_text(render(name, code, config), encoding="utf-8")
        config.write_text(config_text, encoding="utf-8")
    except (ConfigError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {code} (class {class_name(name)}) and {config} (its config)")
    typer.echo("next, from this folder:")
    for line in (
        f"tradebot backtest --strategy {spec}",
        f"tradebot lookahead-check {spec}",
        f"tradebot backtest -c {config}",
        f"tradebot run --mode paper --bars 500 -c {config}",
    ):
        typer.echo(f"  {line}")


def strategy_config_text(spec: str, name: str) -> str:
    """The built-in config with ``strategy.name`` set to ``spec`` and a state file of its own.

    Raises:
        ConfigError: the built-in config changed shape (a test holds it).
    """
    text = default_config_text()
    replaced = text.replace("  name: ema_crossover", f"  name: {spec}", 1).replace(
        "  path: ./data/tradebot.db", f"  path: ./data/{name}.db", 1
    )
    config = parse_config(replaced, source="new-strategy config", environ={})
    if config.strategy.name != spec or config.database.path != Path(f"data/{name}.db"):
        raise ConfigError("the built-in config changed shape; set strategy.name by hand")
    return replaced
