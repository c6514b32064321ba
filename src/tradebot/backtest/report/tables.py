"""The report's HTML tables beyond the metrics: monthly returns, trades grouped by exit reason
and by entry signal, and a basket's symbols with the correlation of their returns.

Every piece of text from the run is HTML-escaped; numbers carry a ``pos``/``neg`` class so a
gain reads green and a loss red.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import pandas as pd

from tradebot.backtest.breakdown import GroupStats
from tradebot.backtest.legs import LegFigures
from tradebot.backtest.monthly import PeriodReturns

MAX_GROUPS = 25  # more distinct entry signals than this are summed as "other"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def signed(value: float | None, digits: int = 2, suffix: str = "") -> str:
    """A cell with a sign and its colour class; "n/a" for None."""
    if value is None or not math.isfinite(value):
        return '<td class="na">n/a</td>'
    sign = "pos" if value > 0 else "neg" if value < 0 else ""
    return f'<td class="{sign}">{value:+,.{digits}f}{suffix}</td>'


def monthly_table(returns: PeriodReturns) -> str:
    """Years down, months across, the year's compounded return last (percent)."""
    head = "".join(f"<th>{m}</th>" for m in _MONTHS)
    rows = []
    for year, total in returns.years.items():
        cells = "".join(
            signed(returns.months[(year, m)]) if (year, m) in returns.months else "<td></td>"
            for m in range(1, 13)
        )
        rows.append(f"<tr><td>{year}</td>{cells}{signed(total)}</tr>")
    return (
        '<table id="monthly" class="grid"><thead><tr><th>Year</th>'
        f"{head}<th>Year</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def group_table(table_id: str, title: str, groups: Sequence[GroupStats]) -> str:
    """One row per group: trades, win rate, PnL, average return, profit factor, MAE/MFE."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            title,
            "Trades",
            "Win rate",
            "Net PnL",
            "Avg return",
            "Profit factor",
            "Avg held",
            "Avg MAE",
            "Avg MFE",
        )
    )
    rows = "".join(_group_row(g) for g in groups[:MAX_GROUPS])
    note = ""
    if len(groups) > MAX_GROUPS:
        rest = groups[MAX_GROUPS:]
        note = (
            f'<p class="note">{len(rest):,} more groups with {sum(g.trades for g in rest):,} '
            "trades are not shown.</p>"
        )
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{note}'
    )


def _group_row(g: GroupStats) -> str:
    pf = "n/a" if g.profit_factor is None else f"{g.profit_factor:,.2f}"
    held = (
        f"{g.avg_duration_hours / 24:,.1f} d"
        if g.avg_duration_hours >= 48
        else (f"{g.avg_duration_hours:,.1f} h")
    )
    return (
        f'<tr><td class="text">{escape(g.key)}</td><td>{g.trades:,}</td>'
        f"<td>{g.win_rate_pct:.1f}%</td>{signed(g.pnl)}{signed(g.avg_return_pct, suffix='%')}"
        f"<td>{pf}</td><td>{held}</td>{signed(g.avg_mae_pct, suffix='%')}"
        f"{signed(g.avg_mfe_pct, suffix='%')}</tr>"
    )


def legs_table(legs: Sequence[LegFigures]) -> str:
    """A basket's symbols: contribution, exposure, buy-and-hold and their trades."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Symbol",
            "Contribution",
            "of starting cash",
            "Exposure time",
            "Buy & hold",
            "Trades",
            "Win rate",
            "Realised PnL",
            "Profit factor",
        )
    )
    rows = []
    for leg in legs:
        t = leg.trades
        pf = "n/a" if t is None or t.profit_factor is None else f"{t.profit_factor:,.2f}"
        rows.append(
            f'<tr><td class="text">{escape(leg.symbol)}</td>{signed(leg.contribution)}'
            f"{signed(leg.contribution_pct, suffix='%')}<td>{leg.exposure_time_pct:.1f}%</td>"
            f"{signed(leg.buy_and_hold_pct, suffix='%')}<td>{0 if t is None else t.trades:,}</td>"
            f"<td>{'n/a' if t is None else f'{t.win_rate_pct:.1f}%'}</td>"
            f"{signed(None if t is None else t.pnl)}<td>{pf}</td></tr>"
        )
    return (
        f'<table id="symbols"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def correlation_table(matrix: pd.DataFrame) -> str:
    """The correlation matrix, each cell shaded by its value (red high, blue negative)."""
    names = [str(c) for c in matrix.columns]
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    values = matrix.to_numpy(dtype=float)
    rows = []
    for i, name in enumerate(names):
        cells = "".join(_corr_cell(float(v)) for v in values[i])
        rows.append(f'<tr><td class="text">{escape(name)}</td>{cells}</tr>')
    return (
        f'<table id="correlation"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _corr_cell(value: float) -> str:
    if not math.isfinite(value):
        return '<td class="na">n/a</td>'
    alpha = min(abs(value), 1.0) * 0.6
    rgb = "220,38,38" if value >= 0 else "37,99,235"
    return f'<td style="background: rgba({rgb},{alpha:.2f})">{value:.2f}</td>'
