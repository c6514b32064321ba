"""``tradebot run``, ``tradebot stop`` and ``tradebot status``: paper and live trading.

``run`` builds the exchange connection (an embedded sandbox for paper mode when the config
says so), the database and the ``TradingBot``, then trades until SIGINT/SIGTERM, or with
``--replay`` advances the deterministic sandbox bar by bar as fast as it can and prints a
summary. ``stop`` and ``status`` talk to the bot only through its database, so they work
while it runs in another process (or when it is not running at all).

The commands are declared here; what they do is in ``run_session.py``, imported when one
runs, so that ``--help`` answers without importing the exchange, the sandbox and the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradebot.cli.options import ConfigOption, DbOption
from tradebot.cli.venues import REAL_MONEY_FLAG


def register(app: typer.Typer) -> None:
    """Add ``run``, ``stop`` and ``status`` to ``app``."""
    app.command("run")(run)
    app.command("stop")(stop)
    app.command("resume")(resume)
    app.command("status")(status)


def run(
    context: typer.Context,
    mode: Annotated[
        str | None,
        typer.Option(help="paper (sandbox exchange) or live (real orders); default: config."),
    ] = None,
    config_path: ConfigOption = None,
    db: DbOption = None,
    bars: Annotated[
        int | None, typer.Option(help="Replay this many bars at full speed, then stop.")
    ] = None,
    replay: Annotated[
        bool, typer.Option("--replay", help="Paper: replay the data at full speed.")
    ] = False,
    data: Annotated[
        list[Path] | None,
        typer.Option(help="Paper: candle file the sandbox replays (repeat: one per symbol)."),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Paper: embedded sandbox replay speed x real time.")
    ] = 1.0,
    real_money: Annotated[
        bool, typer.Option(REAL_MONEY_FLAG, help="Live: confirm that orders use real money.")
    ] = False,
    record: Annotated[
        bool, typer.Option("--record-trades/--no-record-trades", help="Store public trades.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Paper: start a new account (the old database and account are kept)."
        ),
    ] = False,
) -> None:
    """Trade the configured strategy on paper (local sandbox) or live until Ctrl-C.

    A paper run continues the account and replay clock the previous run on the same
    database left (kept in ``<db>.sandbox.json``); ``--fresh`` starts over.
    """
    from tradebot.cli import run_session  # imported when it runs, not for --help

    run_session.start_run(
        context, mode, config_path, db, bars, replay, data, speed, real_money, record, fresh
    )


def stop(
    flatten: Annotated[
        bool, typer.Option(help="Also cancel every order and sell positions at market.")
    ] = False,
    entries: Annotated[
        bool,
        typer.Option("--entries", help="Stop only new entries (REDUCING): exits and stops go on."),
    ] = False,
    config_path: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Halt the bot (no new orders; stops stay); with --flatten close everything."""
    from tradebot.cli import run_session

    run_session.stop_bot(flatten, entries, config_path, db)


def resume(config_path: ConfigOption = None, db: DbOption = None) -> None:
    """Set the kill switch back to ACTIVE after a stop or a halt (look at status first)."""
    from tradebot.cli import run_session

    run_session.resume_bot(config_path, db)


def status(config_path: ConfigOption = None, db: DbOption = None) -> None:
    """Print the kill switch, last bar, open orders, position and last snapshot."""
    from tradebot.cli import run_session

    run_session.show_status(config_path, db)
