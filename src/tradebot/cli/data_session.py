"""What ``tradebot data check | list | import | export | archive`` do; ``data.py`` declares them.

Kept apart from the declarations: a command's ``--help`` imports its module, and this one
imports pandas and the candle store (1.0 s of CPU before ``data --help`` answered without
them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from tradebot.data.frame import fmt_ts, parse_time_ms, timeframe_from_name
from tradebot.data.load import list_samples, read_candle_file, sample_path, write_candle_file
from tradebot.data.quality import (
    NO_CANDLES,
    QualityReport,
    Severity,
    check_candles,
    timeframe_mismatch,
)
from tradebot.data.repair import repair
from tradebot.data.resample import cross_check
from tradebot.data.store import CandleStore
from tradebot.domain.errors import DataError


def start_check(
    source: str,
    timeframe: str | None,
    repair_how: Literal["drop", "ffill"] | None,
    output: Path | None,
    against: Path | None,
    start: str | None,
    end: str | None,
    db: str,
) -> None:
    """The work of ``data.check``, which declares its options and help."""
    console = Console()
    start_ms, end_ms = _bounds(start, end)
    try:
        frame, name, tf = _read_source(source, timeframe, start_ms, end_ms, db)
        report = check_candles(frame, tf)
        render_report(console, name, report)
        mismatch = None if tf is None or frame.empty else timeframe_mismatch(frame, tf)
        if mismatch is not None:
            console.print(f"[bold red]{mismatch}[/]", highlight=False)
        if repair_how is not None:
            frame = repair(frame, repair_how, report.timeframe)
            report = check_candles(frame, report.timeframe)
            render_report(console, f"{name} after --repair {repair_how}", report)
        if output is not None:
            rows = write_candle_file(frame, output)
            console.print(f"wrote {rows:,} candles to {output}")
        consistent = True if against is None else _cross_check(console, frame, report, against)
    except DataError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if not (report.is_tradeable and consistent):
        raise typer.Exit(1)


def start_list(
    db: str,
) -> None:
    """The work of ``data.list_data``, which declares its options and help."""
    console = Console()
    table = Table(title="bundled samples")
    for column in ("name", "rows", "first (UTC)", "last (UTC)"):
        table.add_column(column)
    for name in list_samples():
        frame = read_candle_file(sample_path(name))
        ts = frame["ts_ms"]
        table.add_row(name, f"{len(frame):,}", fmt_ts(int(ts.iloc[0])), fmt_ts(int(ts.iloc[-1])))
    console.print(table)
    if "://" not in db and not Path(db).exists():
        console.print(f"no candle store at {db} (import one with `tradebot data import`)")
        return
    with CandleStore(db) as store:
        stored = Table(title=f"candle store {store.safe_url}")
        for column in ("symbol", "timeframe", "first (UTC)", "last (UTC)", "rows", "gaps"):
            stored.add_column(column)
        for r in store.ranges():
            gaps = f"{r.gaps:,} ({r.missing:,} missing)" if r.gaps else "0"
            first, last = fmt_ts(r.first_ts_ms), fmt_ts(r.last_ts_ms)
            stored.add_row(r.symbol, r.timeframe, first, last, f"{r.rows:,}", gaps)
        console.print(stored)


def start_import(
    file: Path,
    symbol: str,
    timeframe: str | None,
    repair_how: Literal["refuse", "drop", "ffill"],
    db: str,
) -> None:
    """The work of ``data.import_data``, which declares its options and help."""
    tf = timeframe or timeframe_from_name(file.name)
    if tf is None:
        typer.echo(f"error: cannot tell the timeframe of {file.name}; pass --timeframe", err=True)
        raise typer.Exit(2)
    _db_parent(db)
    try:
        with CandleStore(db) as store:
            rows = store.import_file(file, symbol, tf, repair=repair_how)
            typer.echo(f"imported {rows:,} {symbol} {tf} candles into {store.safe_url}")
    except DataError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


def start_export(
    file: Path,
    symbol: str,
    timeframe: str,
    start: str | None,
    end: str | None,
    db: str,
) -> None:
    """The work of ``data.export_data``, which declares its options and help."""
    start_ms, end_ms = _bounds(start, end)
    try:
        with CandleStore(db) as store:
            rows = store.export_file(symbol, timeframe, file, start_ms, end_ms)
    except DataError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"exported {rows:,} {symbol} {timeframe} candles to {file}")


def start_archive(
    symbol: str,
    timeframe: str,
    before: str,
    db: str,
) -> None:
    """The work of ``data.archive_data``, which declares its options and help."""
    before_ms = _bounds(before, None)[0]
    if before_ms is None:
        typer.echo("error: --before is empty", err=True)
        raise typer.Exit(2)
    try:
        with CandleStore(db) as store:
            moved = store.archive(symbol, timeframe, before_ms)
            where = store.cold.path(symbol, timeframe) if store.cold else "?"
    except DataError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"archived {moved:,} {symbol} {timeframe} candles to {where}")


def render_report(console: Console, name: str, report: QualityReport) -> None:
    """Print a quality report as a rich table, errors first."""
    verdict = "[green]tradeable[/]" if report.is_tradeable else "[bold red]NOT tradeable[/]"
    span = (
        f"{fmt_ts(report.first_ts_ms)} → {fmt_ts(report.last_ts_ms)}"
        if report.first_ts_ms is not None and report.last_ts_ms is not None
        else "no rows"
    )
    console.print(f"[bold]{name}[/]: {report.rows:,} {report.timeframe} candles, {span}: {verdict}")
    table = Table(show_header=True, header_style="bold")
    for column in ("severity", "finding", "count", "first rows (UTC)"):
        table.add_column(column)
    if report.rows == 0:
        table.add_row("[red]error[/]", NO_CANDLES, "0", "")
    if report.gaps:
        gaps = "\n".join(g.describe() for g in report.gaps[:5])
        more = f"\n… +{len(report.gaps) - 5:,} more" if len(report.gaps) > 5 else ""
        count = f"{len(report.gaps):,} ({report.missing_candles:,} missing)"
        table.add_row("[red]error[/]", "gaps", count, gaps + more)
    for f in (*report.errors, *report.warnings):
        style = "red" if f.severity is Severity.ERROR else "yellow"
        rows = "\n".join(
            f"row {r:,}  {fmt_ts(t)}" for r, t in zip(f.rows[:5], f.ts_ms[:5], strict=True)
        )
        more = f"\n… +{f.count - 5:,} more" if f.count > 5 else ""
        table.add_row(f"[{style}]{f.severity.value}[/]", f.issue.value, f"{f.count:,}", rows + more)
    if table.row_count:
        console.print(table)


def _cross_check(console: Console, frame: pd.DataFrame, report: QualityReport, lower: Path) -> bool:
    # the higher timeframe must equal the resampled lower one wherever both have bars
    lower_frame = read_candle_file(lower, report.first_ts_ms, None)
    result = cross_check(lower_frame, frame, report.timeframe, timeframe_from_name(lower.name))
    style = "green" if result.is_consistent else "bold red"
    console.print(f"cross-check against {lower.name}: [{style}]{result.describe()}[/]")
    return result.is_consistent


def _read_source(
    source: str, timeframe: str | None, start_ms: int | None, end_ms: int | None, db: str
) -> tuple[pd.DataFrame, str, str | None]:
    # a file path, then a bundled sample, then a symbol in the store
    path = Path(source)
    if path.is_file():
        frame = read_candle_file(path, start_ms, end_ms)
        return frame, source, timeframe or timeframe_from_name(path.name)
    if source in list_samples():
        frame = read_candle_file(sample_path(source), start_ms, end_ms)
        return frame, source, timeframe or timeframe_from_name(source)
    if timeframe is None:
        raise DataError(f"{source} is not a file or sample; for a stored symbol pass --timeframe")
    if "://" not in db and not Path(db).exists():
        raise DataError(f"{source} is not a file or sample, and there is no candle store at {db}")
    with CandleStore(db) as store:
        frame = store.read(source, timeframe, start_ms, end_ms)
    if frame.empty:
        raise DataError(f"no {source} {timeframe} candles stored; see `tradebot data list`")
    return frame, f"{source} {timeframe}", timeframe


def _bounds(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    try:
        return (
            parse_time_ms(start) if start else None,
            parse_time_ms(end) if end else None,
        )
    except ValueError as e:
        typer.echo(f"error: bad --start/--end ({e}); use 2024-01-01 or epoch ms", err=True)
        raise typer.Exit(2) from None


def _db_parent(db: str) -> None:
    # a SQLite file's folder is created on first use, as the config's default path needs
    if "://" not in db:
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
