"""What ``tradebot backtest`` does, and what optimize, walk-forward and demo share of it.

``backtest.py`` declares the command. Kept apart from the declaration: a command's ``--help``
imports its module, and this one imports the backtester, pandas and the report (1.2 s of CPU
before ``backtest --help`` answered without them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from tradebot.backtest.dataset import CONFIG_CHOSEN, Chosen
from tradebot.backtest.report.console import metrics_table, refused_lines, regime_table
from tradebot.backtest.session import BacktestRun, run_backtest
from tradebot.config import Config, load_config, with_overrides
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.strategy.registry import parse_params


def start_backtest(
    config_path: Path | None,
    strategy: str | None,
    param: list[str] | None,
    symbol: str | None,
    timeframe: str | None,
    window: Window,
    data: list[Path] | None,
    report_dir: Path | None,
    repair: str | None,
    store: str | None,
    every_bar: bool,
) -> None:
    """``tradebot backtest``: run it with a progress bar, write the report, print the metrics."""
    console = Console()
    try:
        files = data or []
        one_file = files[0] if len(files) == 1 and not files[0].is_dir() else None
        config = configure_backtest(
            config_path, strategy, param, symbol, timeframe, window, one_file, repair
        )
        if symbol is not None and len(config.trading.all_symbols) > 1:
            raise ConfigError(
                f"--symbol {symbol} with trading.symbols ({', '.join(config.trading.all_symbols)})"
                " in the config: list the markets in trading.symbols, or drop it for --symbol"
            )
        chosen = Chosen(
            chosen_by("symbol", symbol, config_path, config),
            chosen_by("timeframe", timeframe, config_path, config),
        )
        run = run_with_progress(
            config,
            report_dir or config.backtest.report_dir,
            every_bar,
            console,
            store,
            chosen,
            one_folder_per_run=True,
            files=() if one_file and len(config.trading.all_symbols) == 1 else files,
        )
    except TradebotError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    print_run(run, console)


def configure_backtest(
    config_path: Path | None,
    strategy: str | None,
    param: list[str] | None,
    symbol: str | None,
    timeframe: str | None,
    window: Window,
    data: Path | None,
    repair: str | None,
) -> Config:
    """The config with the command line's strategy, market, window and data applied."""
    config = load_config(config_path)
    options: dict[str, object] = {
        "strategy.name": strategy,
        "trading.symbol": symbol,
        "trading.timeframe": timeframe,
        "backtest.start": window.start,
        "backtest.end": window.end,
        "backtest.trade_from": window.trade_from,
        "backtest.warmup_bars": window.warmup_bars,
        "backtest.data": str(data) if data else None,
        "backtest.data_repair": repair,
    }
    updates = {k: v for k, v in options.items() if v is not None}
    if strategy is not None:  # it replaces every symbol's strategy, an ensemble too
        updates.update({"strategy.params": {}, "strategy.ensemble": None, "strategy.symbols": {}})
    if param:
        updates["strategy.params"] = parse_params(param)
    return with_overrides(config, updates, "command line") if updates else config


def refuse_unresearchable(config: Config, command: str) -> None:
    """``command`` (optimize, walk-forward) searches ``strategy.params`` on one market: a
    config trading several is refused, not cut to its first (``--symbol`` does not replace
    ``trading.symbols``), and so is a per-symbol strategy for that market, which every
    trial would trade instead of the parameters searched. An ensemble is refused too: its
    members' parameters are not a search space (search one member on its own).

    Raises:
        ConfigError: ``trading.symbols`` lists more than one market,
            ``strategy.symbols`` gives the market its own strategy, or
            ``strategy.ensemble`` is set.
    """
    ensemble = config.strategy.ensemble
    if ensemble is not None:
        members = ", ".join(dict.fromkeys(m.name for m in ensemble.members))
        first = ensemble.members[0].name
        raise ConfigError(
            f"strategy.ensemble is set ({ensemble.mode} of {members}): {command} searches one "
            "strategy's parameters, not an ensemble's members. Research a member on its own "
            f"with --strategy {first} (--param name=value fixes its other parameters), then "
            "write the parameters found into its entry of strategy.ensemble.members"
        )
    symbols = config.trading.all_symbols
    if len(symbols) > 1:
        raise ConfigError(
            f"{command} runs one market; trading.symbols lists {', '.join(symbols)}: keep one "
            "in trading.symbols (or give trading.symbol instead) in a config for the research"
        )
    override = config.strategy.symbols.get(symbols[0])
    if override is not None:
        raise ConfigError(
            f"strategy.symbols.{symbols[0]} gives the market its own strategy "
            f"({override.name}), which every trial would trade, so the {config.strategy.name} "
            f"parameters {command} searches would change nothing: remove the override, or "
            "research that strategy with --strategy or strategy.name"
        )


@dataclass(frozen=True, slots=True)
class Window:
    """The bars the command line asks for, and where trading starts in them."""

    start: str | None = None
    end: str | None = None
    trade_from: str | None = None
    warmup_bars: int | None = None


def chosen_by(key: str, option: str | None, config_path: Path | None, config: Config) -> str | None:
    """Where the user chose ``trading.<key>``, for messages; None leaves it to the data file."""
    if option is not None:
        return f"--{key}"
    if config_path is not None and key in config.trading.model_fields_set:
        return f"trading.{key} in {config_path}"
    return None


def run_with_progress(
    config: Config,
    report_dir: Path,
    every_bar: bool,
    console: Console,
    store: str | None = None,
    chosen: Chosen = CONFIG_CHOSEN,
    *,
    one_folder_per_run: bool = False,
    files: Sequence[Path] = (),
) -> BacktestRun:
    """Run the backtest with a progress bar and write the report folder.

    With ``one_folder_per_run`` the report goes into a new folder inside ``report_dir``
    (and ``report_dir/latest`` links to it); otherwise into ``report_dir`` itself.
    """
    columns = (
        TextColumn("[bold]backtest"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} bars"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("backtest", total=1)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return run_backtest(
            config,
            report_dir=None if one_folder_per_run else report_dir,
            report_root=report_dir if one_folder_per_run else None,
            every_bar=every_bar,
            progress=on_progress,
            store=store,
            chosen=chosen,
            files=files,
        )


def print_run(run: BacktestRun, console: Console) -> None:
    """Print the metrics table and where the report is."""
    result = run.result
    title = (
        f"{result.strategy_name} on {result.symbol} {result.timeframe}: {result.n_bars:,} "
        f"bars from {run.data_source}"
    )
    for note in run.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(metrics_table(run.metrics, title=title))
    by_regime = regime_table(result)
    if by_regime is not None:
        console.print(by_regime)
    for line in refused_lines(result.refused):  # the venue's reasons may hold brackets
        console.print(line, style="yellow", markup=False, highlight=False)
    if run.report is not None:
        console.print(f"report: [bold]{run.report.html}[/bold]")
        console.print(f"trades: {run.report.trades_csv}   decisions: {run.report.decisions_jsonl}")
