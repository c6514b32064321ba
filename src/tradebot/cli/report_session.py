"""What ``tradebot report`` does; ``report.py`` declares it.

Kept apart from the declaration: a command's ``--help`` imports its module, and this one
imports the backtester's report, pandas and the database (1.5 s of CPU before
``report --help`` answered without them).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tradebot.backtest.metrics import compute_metrics
from tradebot.backtest.report.console import regime_table
from tradebot.backtest.report.saved import saved_session
from tradebot.backtest.session import report_run
from tradebot.cli.setup import existing_repository
from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.orchestrator.assembly import build_strategy


def start_report(
    db: str | None,
    out: Path | None,
    config_path: Path | None,
    symbol: str | None,
    mode: str | None,
) -> None:
    """The work of ``report.report``, which declares its options and help."""
    try:
        config = load_config(config_path)
        if db is not None:
            is_url = "://" in db
            updates = {"database.url": db if is_url else None}
            if not is_url:
                updates["database.path"] = db
            config = with_overrides(config, updates, "--db")
        kind = mode or config.exchange.mode
        if kind not in ("paper", "live"):
            raise ConfigError(f"--mode {kind!r}: choose paper or live")
        strategy = build_strategy(config, symbol)
        listed = config.trading.all_symbols
        result = saved_session(
            existing_repository(config),
            mode=kind,
            timeframe=config.trading.timeframe,
            strategy_name=strategy.name,
            strategy_config=dict(strategy.get_config()),
            symbol=symbol,
            listed=listed,
            strategies={s: build_strategy(config, s).name for s in listed},
        )
        metrics = compute_metrics(result)
        root = None if out is not None else config.backtest.report_dir
        paths = report_run(result, metrics, out, root)
    except TradebotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    assert paths is not None  # a folder was named or made
    typer.echo(
        f"{kind} session on {result.symbol}: {result.n_bars:,} bars, {len(result.trades):,} "
        f"trades, final equity {metrics.final_equity:,.2f}"
    )
    by_regime = regime_table(result)
    if by_regime is not None:
        Console().print(by_regime)
    typer.echo(f"report: {paths.html}")
