"""What ``tradebot strategies`` and ``tradebot lookahead-check`` do; ``strategy.py`` declares them.

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports the strategies and pandas (0.9 s of CPU before ``strategies --help`` answered
without them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tradebot.cli.lookahead_tables import print_lookahead, print_warmup
from tradebot.config import load_config
from tradebot.data.load import load_candles, sample_path
from tradebot.data.repair_kind import Repair
from tradebot.domain.errors import ConfigError, DataError, StrategyError
from tradebot.orchestrator.assembly import build_strategy
from tradebot.strategy.base import Strategy
from tradebot.strategy.lookahead import check_lookahead
from tradebot.strategy.registry import (
    EXTRA_STRATEGIES,
    REQUIRED,
    STRATEGIES,
    create_strategy,
    parse_params,
    resolve_strategy,
    strategy_parameters,
)
from tradebot.strategy.warmup import WarmupReport, check_warmup

DEFAULT_SAMPLE = "binance_BTC-USDT_1h_2024.csv.gz"


def start_strategies() -> None:
    """The work of ``strategy.strategies``, which declares its options and help."""
    table = Table(title="Built-in strategies (or use path/to/file.py:ClassName)")
    for column in ("name", "class", "parameters (defaults)", "what it does"):
        table.add_column(column)
    for name in sorted([*STRATEGIES, *EXTRA_STRATEGIES]):
        try:
            cls = resolve_strategy(name)
        except ConfigError as err:  # an extra that is not installed says how to install it
            table.add_row(name, "", "", str(err))
            continue
        params = ", ".join(
            k if v is REQUIRED else f"{k}={v!r}" for k, v in strategy_parameters(cls).items()
        )
        summary = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "")
        table.add_row(name, cls.__name__, params, summary)
    Console(width=160).print(table)


def start_lookahead_check(
    strategy: str | None,
    config_path: Path | None,
    symbol: str | None,
    data: Path | None,
    param: list[str] | None,
    cuts: int,
    seed: int,
    signal_bars: int,
    every_cut: bool,
    recursive: bool,
    repair: Repair,
) -> None:
    """The work of ``strategy.lookahead_check``, which declares its options and help."""
    console = Console(width=160)
    try:
        factory = _factory(strategy, param or [], config_path, symbol)
        factory()  # a bad spec, member or parameter fails here, once
        candles = load_candles(data or sample_path(DEFAULT_SAMPLE), repair=repair)
        report = check_lookahead(
            factory,
            candles,
            n_cuts=cuts,
            seed=seed,
            signal_bars=signal_bars,
            every_bar=every_cut,
        )
        warm = _warmup(factory, candles) if recursive else None
    except (ConfigError, DataError, StrategyError) as e:
        console.print(f"[red]error:[/red] {e}", markup=True, highlight=False)
        raise typer.Exit(2) from e
    print_lookahead(console, report)
    if isinstance(warm, WarmupReport):
        print_warmup(console, warm)
    elif warm is not None:
        console.print(f"warm-up check skipped: {warm}", highlight=False)
    if report.has_lookahead or (isinstance(warm, WarmupReport) and warm.window_too_short):
        raise typer.Exit(1)


def _factory(
    strategy: str | None, param: list[str], config_path: Path | None, symbol: str | None
) -> Callable[[], Strategy]:
    # Fresh instances of the strategy named on the command line, or of the one a config sets.
    if (strategy is None) == (config_path is None):
        raise ConfigError("name a strategy, or give --config to check the one it sets (not both)")
    if config_path is None:
        assert strategy is not None  # one of the two, checked above
        return partial(create_strategy, strategy, parse_params(param))
    if param:
        raise ConfigError("--param sets a named strategy's parameters; with --config edit the file")
    config = load_config(config_path)
    if symbol is not None and symbol not in config.trading.all_symbols:
        traded = ", ".join(config.trading.all_symbols)
        raise ConfigError(f"--symbol {symbol}: {config_path} trades {traded}")
    return partial(build_strategy, config, symbol)


def _warmup(factory: Callable[[], Strategy], candles: pd.DataFrame) -> WarmupReport | str:
    try:
        return check_warmup(factory, candles)
    except DataError as e:  # too little data for the window: say so, the rest still counts
        return str(e)
