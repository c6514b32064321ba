"""The self-contained HTML report: header, metrics, charts, monthly returns, trades grouped by
exit reason and entry signal, a basket's symbols, and the trade list.

plotly.js is embedded in the page (``include_plotlyjs=True``), so the file opens offline, from
an e-mail attachment or a machine with no internet. Every piece of text from the run (symbol,
reasons, config values) is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

import plotly.graph_objects as go

from tradebot.backtest.excursions import Excursion
from tradebot.backtest.metrics import PerformanceMetrics
from tradebot.backtest.report.analysis import TradeAnalysis
from tradebot.backtest.report.records import masked
from tradebot.backtest.report.refusals import refused_section
from tradebot.backtest.report.tables import (
    correlation_table,
    group_table,
    legs_table,
    monthly_table,
    signed,
)
from tradebot.backtest.result import BacktestResult
from tradebot.domain.decisions import MetadataValue
from tradebot.domain.portfolio import Trade

# More live in trades.csv. 5,000 rows held a 10,000-trade page 5 s longer in Chromium before
# it was ready (1.7 MB of table); 1,000 are what a reader scrolls through.
MAX_TRADE_ROWS = 1_000
# No "Share chart" button: it uploads the chart (prices, trades, equity) to Plotly's cloud.
_PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["sendChartToCloud"],
}
_KIND = {"backtest": "Backtest", "paper": "Paper session", "live": "Live session"}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #111827; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; }
.sub { color: #4b5563; margin: 2px 0; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e5e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f4f6; position: sticky; top: 0; }
td.pos { color: #15803d; } td.neg { color: #b91c1c; } td.na { color: #9ca3af; }
td.text { text-align: left; }
table.grid td { min-width: 3em; }
.note { color: #6b7280; font-size: 0.85rem; }
.row { display: flex; gap: 48px; flex-wrap: wrap; align-items: flex-start; }
.side { flex: 1; min-width: 480px; overflow-x: auto; }
"""


def render_html(
    result: BacktestResult,
    metrics: PerformanceMetrics,
    figures: Sequence[tuple[str, go.Figure]],
    analysis: TradeAnalysis,
    scripts: Sequence[str] = (),
) -> str:
    """The whole page as one string; ``figures`` are (div id, figure), the first one carries
    plotly.js; ``scripts`` are extra ``<script>`` elements that act on the figures."""
    charts = [
        fig.to_html(
            full_html=False,
            include_plotlyjs=k == 0,
            div_id=div_id,
            config=_PLOTLY_CONFIG,
        )
        for k, (div_id, fig) in enumerate(figures)
    ]
    title = f"{result.symbol} {result.timeframe} · {result.strategy_name}"
    return "\n".join(
        (
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)} {_kind(result).lower()}</title>",
            f"<style>{_STYLE}</style></head><body>",
            _header(result, metrics),
            '<div class="row"><div>',
            "<h2>Performance</h2>",
            _metrics_table(metrics),
            refused_section(result.refused),
            '</div><div class="side">',
            "<h2>Monthly returns (%)</h2>",
            monthly_table(analysis.periods),
            "<h2>Trades by exit reason</h2>",
            group_table("by-exit", "Exit reason", analysis.by_exit),
            "<h2>Trades by entry signal</h2>",
            group_table("by-entry", "Entry signal", analysis.by_entry),
            _regime_section(analysis),
            '<p class="note">MAE and MFE: how far the price went against (lowest low) and for '
            "(highest high) each trade, from its entry price, over the bars it was open.</p>",
            "</div></div>",
            "<h2>Charts</h2>",
            charts[0],
            *scripts,
            _basket_section(analysis, charts[1:]),
            _trades_section(result.trades, analysis),
            "</body></html>",
        )
    )


def _regime_section(analysis: TradeAnalysis) -> str:
    if not analysis.by_regime:
        return ""
    return "<h2>Trades by regime at entry</h2>" + group_table(
        "by-regime", "Regime at entry", analysis.by_regime
    )


def when(ts_ms: int) -> str:
    """``2024-01-01 00:00 UTC``: the time format of the page."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _kind(result: BacktestResult) -> str:
    return _KIND.get(result.mode, result.mode.capitalize())


def _header(result: BacktestResult, metrics: PerformanceMetrics) -> str:
    period = f"{when(metrics.start_ts_ms)} → {when(metrics.end_ts_ms)}" if result.n_bars else "—"
    return "\n".join(
        (
            f"<h1>{_kind(result)}: {escape(result.symbol)} {escape(result.timeframe)}</h1>",
            f'<p class="sub">Strategy <b>{escape(result.strategy_name)}</b> '
            f"{_params(result.strategy_config)}</p>",
            f'<p class="sub">Period {period} · {result.n_bars:,} bars · '
            f"starting cash {metrics.starting_cash:,.2f} → final equity "
            f"{metrics.final_equity:,.2f}</p>",
            f'<p class="sub">Settings {_params(result.settings)}</p>' if result.settings else "",
        )
    )


def _params(values: Mapping[str, MetadataValue]) -> str:
    shown = masked(values)
    if not shown:
        return ""
    inner = ", ".join(f"{escape(k)}={escape(str(v))}" for k, v in shown.items())
    return f"({inner})"


def _metrics_table(metrics: PerformanceMetrics) -> str:
    body = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(strategy)}</td><td>{escape(bench)}</td></tr>"
        for label, strategy, bench in metrics.comparison_rows()
    )
    return (
        '<table id="metrics"><thead><tr><th>Metric</th><th>Strategy</th>'
        f"<th>Buy &amp; hold</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _basket_section(analysis: TradeAnalysis, charts: Sequence[str]) -> str:
    if not analysis.legs:
        return ""
    parts = [
        "<h2>Symbols</h2>",
        '<p class="note">Contribution: what each symbol added to the account, realised and '
        "still held; the contributions add up to the total PnL. The buy &amp; hold benchmark "
        "above is the equal-weight basket of these symbols.</p>",
        legs_table(analysis.legs),
        *charts,
    ]
    if analysis.correlation is not None:
        parts += [
            "<h2>Correlation of returns</h2>",
            '<p class="note">Pearson correlation of bar-to-bar log returns over the bars the '
            "two symbols share.</p>",
            correlation_table(analysis.correlation),
        ]
    return "\n".join(parts)


_TRADE_HEAD = (
    "#",
    "Symbol",
    "Entry (UTC)",
    "Exit (UTC)",
    "Qty",
    "Entry price",
    "Exit price",
    "PnL",
    "Return %",
    "MAE %",
    "MFE %",
    "Fees",
    "Entry signal",
    "Exit reason",
)


def _trades_section(trades: Sequence[Trade], analysis: TradeAnalysis) -> str:
    head = "".join(f"<th>{h}</th>" for h in _TRADE_HEAD)
    rows = "".join(
        _trade_row(i + 1, t, analysis.moves[i], analysis.entry_kinds[i])
        for i, t in enumerate(trades[:MAX_TRADE_ROWS])
    )
    note = ""
    if len(trades) > MAX_TRADE_ROWS:
        note = (
            f'<p class="note">The first {MAX_TRADE_ROWS:,} of {len(trades):,} trades are '
            "shown; trades.csv holds them all.</p>"
        )
    if not trades:
        note = '<p class="note">No trades were closed.</p>'
    return (
        f"<h2>Trades ({len(trades):,})</h2>{note}"
        f'<table id="trades"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _trade_row(number: int, trade: Trade, move: Excursion | None, entry: str) -> str:
    sign = "pos" if trade.pnl > 0 else "neg" if trade.pnl < 0 else ""
    cells = (
        f"<td>{number}</td>",
        f'<td class="text">{escape(trade.symbol)}</td>',
        f"<td>{when(trade.entry_ts_ms)}</td>",
        f"<td>{when(trade.exit_ts_ms)}</td>",
        f"<td>{trade.qty.normalize():f}</td>",
        f"<td>{_price(trade.entry_price)}</td>",
        f"<td>{_price(trade.exit_price)}</td>",
        f'<td class="{sign}">{trade.pnl:,.2f}</td>',
        f'<td class="{sign}">{trade.return_pct:,.2f}</td>',
        signed(None if move is None else move.mae_pct),
        signed(None if move is None else move.mfe_pct),
        f"<td>{trade.fees:,.4f}</td>",
        f'<td class="text">{escape(entry)}</td>',
        f'<td class="text">{escape(trade.exit_reason)}</td>',
    )
    return f"<tr>{''.join(cells)}</tr>"


def _price(value: Decimal) -> str:
    # Cents for BTC-sized prices; eight decimals for coins priced below one unit.
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.8f}"
