"""``tradebot strategies`` and ``tradebot lookahead-check``: inspect the strategy engine.

The commands are declared here; what they do is in ``strategy_session.py``, imported
when one runs, so that ``--help`` answers without importing the strategies and pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.data.repair_kind import Repair


def register(app: typer.Typer) -> None:
    """Add the strategy commands to ``app``."""
    app.command("strategies")(strategies)
    app.command("lookahead-check")(lookahead_check)


def strategies() -> None:
    """List the built-in strategies (and the ml extra's) with their parameters and defaults."""
    from tradebot.cli import strategy_session  # imported when it runs, not for --help

    strategy_session.start_strategies()


def lookahead_check(
    strategy: Annotated[
        str | None,
        typer.Argument(help="A registered name or path/to/file.py:Class (or --config)."),
    ] = None,
    config_path: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Check the strategy (or ensemble) this config sets."),
    ] = None,
    symbol: Annotated[
        str | None, typer.Option(help="With --config: the symbol whose strategy is checked.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Candle CSV(.gz)/Parquet; default: bundled BTC/USDT 1h.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter name=value.")
    ] = None,
    cuts: Annotated[
        int, typer.Option(min=1, help="Random truncated histories, on top of the warm-up cuts.")
    ] = 40,
    seed: Annotated[int, typer.Option(help="Seed for where the random cuts fall.")] = 0,
    signal_bars: Annotated[
        int, typer.Option(min=1, help="Bars before each cut whose signals are compared.")
    ] = 100,
    every_cut: Annotated[
        bool, typer.Option(help="Cut after every bar: exhaustive, slow (quadratic).")
    ] = False,
    recursive: Annotated[
        bool, typer.Option(help="Also compare indicators from the live window with the full.")
    ] = True,
    repair: Annotated[
        Repair, typer.Option(help="Bad data: refuse (default), drop or ffill.")
    ] = "refuse",
) -> None:
    """Recompute a strategy on truncated histories; exit 1 if a value depends on the future.

    Every truncated history gets a fresh instance. Cuts run through the warm-up, right after
    every bar that signals and at random; signals are asked flat and holding; reads past the
    bar are named; signal_candidates is verified; the live window is checked (--recursive).
    """
    from tradebot.cli import strategy_session  # imported when it runs, not for --help

    strategy_session.start_lookahead_check(
        strategy=strategy,
        config_path=config_path,
        symbol=symbol,
        data=data,
        param=param,
        cuts=cuts,
        seed=seed,
        signal_bars=signal_bars,
        every_cut=every_cut,
        recursive=recursive,
        repair=repair,
    )
