"""``tradebot data check|list|import|export|archive``: look at, check and move candle data.

``check`` reads a candle file, a bundled sample name or a stored symbol, prints the quality
report and exits 1 when the data is not tradeable (after the repair, if one was chosen).

The commands are declared here; what they do is in ``data_session.py``, imported when
one runs, so that ``--help`` answers without importing pandas and the candle store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="TRADEBOT_CANDLES",
        help="SQLite file or SQLAlchemy URL of the candle store.",
    ),
]

TimeOption = Annotated[
    str | None, typer.Option(help="UTC date/time (2024-01-01, 2024-01-01T12:00) or epoch ms.")
]

DEFAULT_DB = "data/candles.db"
"""The candle store: its own file, apart from the bot's state database (database.path)."""


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    data_app = typer.Typer(help="Check, list, import and export candle data.", no_args_is_help=True)
    data_app.command("check")(check)
    data_app.command("list")(list_data)
    data_app.command("import")(import_data)
    data_app.command("export")(export_data)
    data_app.command("archive")(archive_data)
    app.add_typer(data_app, name="data")


def check(
    source: Annotated[str, typer.Argument(help="Candle file, bundled sample name, or symbol.")],
    timeframe: Annotated[str | None, typer.Option(help="e.g. 1m; default: from the data.")] = None,
    repair_how: Annotated[
        Literal["drop", "ffill"] | None,
        typer.Option("--repair", help="Repair, re-check and report the result."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write the repaired candles here.")] = None,
    against: Annotated[
        Path | None, typer.Option(help="Lower-timeframe file to cross-check these candles with.")
    ] = None,
    start: TimeOption = None,
    end: TimeOption = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Report gaps, duplicates, bad rows and outliers; exit 1 if not tradeable."""
    from tradebot.cli import data_session  # imported when it runs, not for --help

    data_session.start_check(
        source=source,
        timeframe=timeframe,
        repair_how=repair_how,
        output=output,
        against=against,
        start=start,
        end=end,
        db=db,
    )


def list_data(db: DbOption = DEFAULT_DB) -> None:
    """Show what the store holds (ranges, rows, gaps) and the bundled samples."""
    from tradebot.cli import data_session  # imported when it runs, not for --help

    data_session.start_list(db=db)


def import_data(
    file: Annotated[Path, typer.Argument(help="CSV(.gz) or Parquet candle file.")],
    symbol: Annotated[str, typer.Option(help="CCXT symbol, e.g. BTC/USDT.")],
    timeframe: Annotated[str | None, typer.Option(help="Default: from the file name.")] = None,
    repair_how: Annotated[
        Literal["refuse", "drop", "ffill"],
        typer.Option("--repair", help="What to do with bad data."),
    ] = "refuse",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Check a candle file and upsert it into the store (bad data is refused by default)."""
    from tradebot.cli import data_session  # imported when it runs, not for --help

    data_session.start_import(
        file=file, symbol=symbol, timeframe=timeframe, repair_how=repair_how, db=db
    )


def export_data(
    file: Annotated[Path, typer.Argument(help="Target .csv, .csv.gz or .parquet file.")],
    symbol: Annotated[str, typer.Option(help="CCXT symbol, e.g. BTC/USDT.")],
    timeframe: Annotated[str, typer.Option(help="e.g. 1m.")],
    start: TimeOption = None,
    end: TimeOption = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write stored candles of ``[start, end)`` to CSV or Parquet (cold storage)."""
    from tradebot.cli import data_session  # imported when it runs, not for --help

    data_session.start_export(
        file=file, symbol=symbol, timeframe=timeframe, start=start, end=end, db=db
    )


def archive_data(
    symbol: Annotated[str, typer.Option(help="CCXT symbol, e.g. BTC/USDT.")],
    timeframe: Annotated[str, typer.Option(help="e.g. 1m.")],
    before: Annotated[str, typer.Option(help="Move candles opened before this UTC date/time.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Move old candles from SQL to the Parquet cold tier (reads see both as one)."""
    from tradebot.cli import data_session  # imported when it runs, not for --help

    data_session.start_archive(symbol=symbol, timeframe=timeframe, before=before, db=db)
