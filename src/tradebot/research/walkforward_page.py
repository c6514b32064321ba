"""The walk-forward page (``walkforward.html``): verdict, folds and the statistics' charts.

Beside the standard backtest report of the stitched out-of-sample record, this page shows
what judges it: the out-of-sample equity window by window against buy & hold, the table of
folds, the full-period grid as a heatmap (two searched parameters) or a bar chart, the
distribution of the CSCV logits behind PBO, the random placements the rule's timing was
measured against, and the Monte Carlo distributions. plotly.js is embedded once, so the file
opens offline; every text from the run is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tradebot.backtest.metrics import buy_and_hold_equity
from tradebot.research.assessment import Assessment
from tradebot.research.verdict import findings, verdict

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #111827; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.15rem; margin: 28px 0 8px; }
.verdict { font-weight: 600; margin: 12px 0; } .note { color: #6b7280; font-size: 0.85rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f4f6; }
"""
_HEIGHT = 360
_HEADERS = {
    "train_bars": "IS bars",
    "test_bars": "OOS bars",
    "in_sample_return_pct": "IS return %",
    "in_sample_sharpe": "IS Sharpe",
    "out_of_sample_return_pct": "OOS return %",
    "out_of_sample_sharpe": "OOS Sharpe",
    "out_of_sample_trades": "OOS trades",
    "efficiency": "WFE",
}


def render_page(a: Assessment, folds: pd.DataFrame, title: str) -> str:
    """The whole page as one HTML string."""
    figures = [equity_figure(a), trials_figure(a), pbo_figure(a), timing_figure(a)]
    figures += monte_carlo_figures(a)
    charts = [
        fig.to_html(full_html=False, include_plotlyjs=k == 0, config={"displaylogo": False})
        for k, fig in enumerate(f for f in figures if f is not None)
    ]
    items = "".join(f"<li>{escape(line)}</li>" for line in findings(a))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class='verdict'>{escape(verdict(a))}</p><ul>{items}</ul>"
        f"<h2>Folds</h2>{_folds_table(_shown(folds))}{charts[0]}"
        "<h2>Is it luck?</h2>"
        "<p class='note'>PBO, the deflated Sharpe ratio and the stability come from every trial"
        " of the same search run over the whole period; the random entries and Monte Carlo"
        " from the stitched out-of-sample record (docs/research.md).</p>"
        f"{''.join(charts[1:])}</body></html>"
    )


def equity_figure(a: Assessment) -> go.Figure:
    """Out-of-sample equity, one colour a fold, against buy & hold over the same bars."""
    oos = a.walk_forward.out_of_sample
    when = pd.to_datetime(oos.ts_ms, unit="ms", utc=True)
    fig = go.Figure()
    for k in range(len(a.walk_forward.folds)):
        mask = a.walk_forward.fold_of_bar == k
        fig.add_trace(go.Scatter(x=when[mask], y=oos.equity[mask], name=f"fold {k + 1}"))
    fig.add_trace(
        go.Scatter(
            x=when,
            y=buy_and_hold_equity(oos),
            name="buy & hold",
            line={"color": "#9ca3af", "dash": "dot"},
        )
    )
    return _layout(fig, "Out-of-sample equity (windows chained)", "equity")


def trials_figure(a: Assessment) -> go.Figure | None:
    """The full-period trials: a heatmap for a full grid of two parameters, else one bar a
    trial, best first."""
    table = a.trials
    params = [c for c in table.columns if c not in ("value", "trades")]
    if table.empty:
        return None
    if len(params) == 2 and len(table) == table[params[0]].nunique() * table[params[1]].nunique():
        pivot = table.pivot_table(index=params[1], columns=params[0], values="value")
        fig = go.Figure(
            go.Heatmap(
                z=pivot.to_numpy(),
                x=[str(c) for c in pivot.columns],
                y=[str(i) for i in pivot.index],
                colorscale="RdYlGn",
                colorbar={"title": "objective"},
            )
        )
        fig.update_xaxes(title=params[0], type="category")
        fig.update_yaxes(title=params[1], type="category")
        return _layout(fig, "Objective of every trial over the whole period", None)
    table = table.sort_values("value", ascending=False)
    labels = ["<br>".join(f"{p}={_cell(row[p])}" for p in params) for _, row in table.iterrows()]
    rank = list(range(1, len(table) + 1))
    fig = go.Figure(go.Bar(x=rank, y=table["value"], hovertext=labels))
    title = "Objective of every trial over the whole period, best first (hover: parameters)"
    return _layout(fig, title, "objective", "trial rank")


def pbo_figure(a: Assessment) -> go.Figure | None:
    """Histogram of the CSCV logits: the mass left of 0 is the PBO."""
    if a.pbo is None:
        return None
    fig = go.Figure(go.Histogram(x=a.pbo.logits, nbinsx=40, name="logit"))
    fig.add_vline(x=0.0, line={"color": "#b91c1c"})
    title = f"Out-of-sample rank logit of the in-sample best (PBO {a.pbo.pbo:.2f})"
    return _layout(fig, title, "combinations", "logit (≤ 0: ranked in the bottom half)")


def timing_figure(a: Assessment) -> go.Figure | None:
    """The random placements' log returns, and the rule's."""
    if a.timing is None:
        return None
    fig = go.Figure(go.Histogram(x=a.timing.random_log_returns, nbinsx=50, name="random"))
    fig.add_vline(x=a.timing.rule_log_return, line={"color": "#b91c1c"})
    title = f"Random entries with the same exposure vs the rule (p = {a.timing.p_value:.3f})"
    return _layout(fig, title, "placements", "log return while in the market")


def monte_carlo_figures(a: Assessment) -> list[go.Figure | None]:
    """Shuffled drawdowns and bootstrapped returns, the actual sequence marked."""
    if a.shuffle is None or a.bootstrap is None:
        return []
    drawdown = go.Figure(go.Histogram(x=a.shuffle.max_drawdown_pct, nbinsx=50))
    drawdown.add_vline(x=a.shuffle.actual_max_drawdown_pct, line={"color": "#b91c1c"})
    returns = go.Figure(go.Histogram(x=a.bootstrap.return_pct, nbinsx=50))
    returns.add_vline(x=a.bootstrap.actual_return_pct, line={"color": "#b91c1c"})
    return [
        _layout(drawdown, "Max drawdown, trades shuffled", "runs", "max drawdown (%)"),
        _layout(returns, "Return, trades bootstrapped", "runs", "return (%)"),
    ]


def _layout(fig: go.Figure, title: str, y: str | None, x: str | None = None) -> go.Figure:
    fig.update_layout(
        title=title, height=_HEIGHT, margin={"l": 60, "r": 20, "t": 50, "b": 50},
        template="plotly_white", showlegend=len(fig.data) > 1,
    )  # fmt: skip
    if y:
        fig.update_yaxes(title=y)
    if x:
        fig.update_xaxes(title=x)
    return fig


def _shown(folds: pd.DataFrame) -> pd.DataFrame:
    # the out-of-sample start as a UTC date instead of epoch milliseconds
    start = pd.to_datetime(folds["test_start_ts_ms"], unit="ms", utc=True)
    shown = folds.drop(columns=["test_start_ts_ms"]).rename(columns=_HEADERS)
    shown.insert(1, "OOS from", start.dt.strftime("%Y-%m-%d %H:%M"))
    return shown


def _folds_table(folds: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in folds.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in folds.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "n/a" if np.isnan(value) else f"{value:.4g}"
    if isinstance(value, str) and value.startswith("{"):
        params = json.loads(value).items()
        return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params)
    return str(value)
