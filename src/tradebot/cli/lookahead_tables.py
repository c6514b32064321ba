"""The tables ``tradebot lookahead-check`` prints: what depended on the future, and the window."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from tradebot.strategy.findings import LookaheadFinding
from tradebot.strategy.lookahead import LookaheadReport
from tradebot.strategy.trial import HOLDINGS
from tradebot.strategy.warmup import WarmupReport


def print_lookahead(console: Console, report: LookaheadReport) -> None:
    """Say what was compared, then every finding (or that there is none)."""
    reasons = Counter(report.cut_reasons.values())
    how = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
    holdings = ", ".join(h.label for h in HOLDINGS)
    head = (
        f"{report.strategy}: {report.n_bars} bars, {len(report.cuts)} truncated histories"
        f" ({how}), {len(report.columns)} columns + signals compared ({holdings});"
        f" {report.signal_bars} bars signal"
    )
    console.print(head, highlight=False)
    if report.stateful:
        console.print(
            "the strategy keeps state between signals: every cut replays from bar 0",
            highlight=False,
        )
    if not report.has_lookahead:
        console.print("[green]no lookahead found[/green]")
        return
    table = Table(title="Values that depended on bars after the one decided")
    for column in ("what", "column", "asked", "first bar", "time (UTC)", "found by"):
        table.add_column(column)
    for column in ("with the future", "without it", "max |diff|", "count"):
        table.add_column(column, justify="right")
    for f in report.findings:
        table.add_row(*_finding_row(f))
    console.print(table)
    console.print(f"[red]lookahead found: {len(report.findings)} finding(s)[/red]")


def print_warmup(console: Console, report: WarmupReport) -> None:
    """Say whether indicators from the live window equal the full history's."""
    probes = ", ".join(str(p) for p in report.probes)
    console.print(
        f"warm-up: indicators from live_window_bars={report.live_window_bars} candles"
        f" compared with the full history at bars {probes}",
        highlight=False,
    )
    if not report.window_too_short:
        console.print("[green]the live window gives the backtest's values[/green]")
        return
    table = Table(title="Indicators the live window computes differently")
    for column in ("column", "bar", "full history", "live window", "rel. diff", "bars needed"):
        table.add_column(column)
    for f in report.findings:
        needed = "all (depends on the start)" if f.needed_bars is None else str(f.needed_bars)
        table.add_row(
            f.column, str(f.bar), _fmt(f.full_value), _fmt(f.window_value),
            f"{f.rel_diff:.3g}", needed,
        )  # fmt: skip
    console.print(table)
    bars_needed = report.needed_bars
    fix = (
        f"set live_window_bars to at least {bars_needed}"
        if bars_needed is not None
        else "use indicators that forget their start (no expanding or cumulative values)"
    )
    console.print(f"[red]the live window is too short: {fix}[/red]", highlight=False)


def _finding_row(f: LookaheadFinding) -> list[str]:
    when = datetime.fromtimestamp(f.first_ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
    found_by = f.revealed_by if f.cut == 0 else f"{f.revealed_by} ({f.cut} bars)"
    return [
        f.kind,
        f.column,
        f.position or "-",
        str(f.first_bar),
        when,
        found_by,
        _fmt(f.full_value),
        _fmt(f.truncated_value),
        "" if f.max_abs_diff != f.max_abs_diff else f"{f.max_abs_diff:.6g}",
        str(f.n_cuts),
    ]


def _fmt(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.10g}"
