"""``tradebot report --db URL``: the report of a paper or live session, from its database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tradebot.backtest.metrics import compute_metrics
from tradebot.backtest.report.console import regime_table
from tradebot.backtest.report.saved import saved_session
from tradebot.backtest.session import report_run
from tradebot.cli.options import ConfigOption
from tradebot.cli.setup import existing_repository
from tradebot.config import load_config, with_overrides
from tradebot.domain.errors import ConfigError, TradebotError
from tradebot.orchestrator.assembly import build_strategy


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report)


def report(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="The bot's state: a SQLite file or a SQLAlchemy URL (default: config)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder to write into (default: a new folder in backtest.report_dir, "
            "<dir>/latest linking to it)."
        ),
    ] = None,
    config_path: ConfigOption = None,
    symbol: Annotated[
        str | None,
        typer.Option(help="One market to report (default: every market the bot decided)."),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="paper or live, for the title (default: exchange.mode).")
    ] = None,
) -> None:
    """Write the HTML report of a paper or live session: the backtest's report, metrics and
    files, computed from the orders, fills, trades, decisions and equity the bot saved.

    Reads only, so it works while the bot runs.
    """
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
