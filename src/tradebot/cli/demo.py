"""``tradebot demo``: backtest the default strategy, then paper-trade it on the sandbox.

The command is declared here; what it does is in ``demo_session.py``, imported when it
runs, so that ``--help`` answers without importing the backtester, the sandbox and ccxt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)


def demo(
    report_dir: Annotated[Path, typer.Option(help="Where to write the report.")] = Path(
        "reports/demo"
    ),
    paper_bars: Annotated[
        int, typer.Option(help="Bars the paper session replays (0 skips it).", min=0)
    ] = 1000,
) -> None:
    """Backtest the built-in default on the bundled data, then paper-trade it."""
    from tradebot.cli import demo_session  # imported when it runs, not for --help

    demo_session.start_demo(report_dir=report_dir, paper_bars=paper_bars)
