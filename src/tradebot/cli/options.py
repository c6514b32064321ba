"""Command-line options several commands share, declared once (same flag, same help)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config YAML (default: built-in).")
]
DbOption = Annotated[
    Path | None, typer.Option("--db", help="SQLite file of the bot's state (default: config).")
]
StrategyOption = Annotated[
    str | None, typer.Option(help="Registered name or path/to/file.py:ClassName.")
]
FixedParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Hold a parameter fixed, k=v (not searched)."),
]
