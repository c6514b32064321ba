"""The report's plotly figure: price with entries and exits, equity against buy-and-hold, drawdown.

A year of 1m bars is half a million points; drawn as-is the HTML would be tens of megabytes and
the browser would crawl. Above ``CANDLE_LIMIT`` bars the price becomes a close line and every
series is down-sampled to about ``MAX_POINTS`` points, keeping each bucket's minimum and maximum
so spikes and the deepest drawdown stay visible. Times are plotted as epoch milliseconds on a
date axis (compact typed arrays in the HTML).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tradebot.backtest.metrics import buy_and_hold_equity, drawdown_pct
from tradebot.backtest.result import BacktestResult, FloatArray, IntArray
from tradebot.domain.orders import Fill, OrderSide

CANDLE_LIMIT = 20_000
MAX_POINTS = 5_000
FIGURE_DIV_ID = "tradebot-charts"
_GREEN, _RED, _BLUE, _GREY = "#16a34a", "#dc2626", "#2563eb", "#9ca3af"


@dataclass(frozen=True, slots=True)
class _Markers:
    x: FloatArray
    y: FloatArray
    text: list[str]


def decimate(values: FloatArray, max_points: int = MAX_POINTS) -> IntArray:
    """Indices of about ``max_points`` values keeping each bucket's min and max, in order."""
    n = len(values)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    buckets = max(max_points // 2, 1)
    size = math.ceil(n / buckets)
    # Edge padding repeats the last value; argmin/argmax return the first hit, a real index.
    grid = np.pad(values, (0, size * buckets - n), mode="edge").reshape(buckets, size)
    base = np.arange(buckets, dtype=np.int64) * size
    picks = np.concatenate((base + grid.argmin(axis=1), base + grid.argmax(axis=1), [0, n - 1]))
    return np.unique(np.minimum(picks, n - 1))


def build_figure(result: BacktestResult, fill_reasons: Mapping[str, str]) -> go.Figure:
    """Three stacked panels sharing the time axis; ``fill_reasons`` maps fill ids to reasons."""
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[0.5, 0.3, 0.2],
        subplot_titles=(f"{result.symbol} price", "Equity vs buy & hold", "Drawdown (%)"),
    )
    x = result.ts_ms.astype(np.float64)
    _add_price(fig, result, x)
    _add_fills(fig, result.fills, fill_reasons)
    _add_curves(fig, result, x)
    fig.update_layout(
        height=900,
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "top", "y": -0.05, "x": 0},
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
    )
    fig.update_xaxes(type="date", rangeslider_visible=False)
    fig.update_yaxes(title_text=result.symbol.split("/")[-1], row=1, col=1)
    fig.update_yaxes(title_text="equity", row=2, col=1)
    fig.update_yaxes(title_text="%", row=3, col=1)
    return fig


def _add_price(fig: go.Figure, result: BacktestResult, x: FloatArray) -> None:
    if result.n_bars <= CANDLE_LIMIT:
        candles = go.Candlestick(
            x=x,
            open=result.open,
            high=result.high,
            low=result.low,
            close=result.close,
            name=result.symbol,
            increasing_line_color=_GREEN,
            decreasing_line_color=_RED,
        )
        fig.add_trace(candles, row=1, col=1)
        return
    keep = decimate(result.close)
    line = go.Scatter(x=x[keep], y=result.close[keep], mode="lines", name=f"{result.symbol} close")
    fig.add_trace(line.update(line_color=_GREY, line_width=1), row=1, col=1)


def _add_fills(fig: go.Figure, fills: Sequence[Fill], reasons: Mapping[str, str]) -> None:
    buys = _markers([f for f in fills if f.side is OrderSide.BUY], reasons)
    sells = _markers([f for f in fills if f.side is OrderSide.SELL], reasons)
    for name, marks, symbol, color in (
        ("entry (buy)", buys, "triangle-up", _GREEN),
        ("exit (sell)", sells, "triangle-down", _RED),
    ):
        scatter = go.Scatter(
            x=marks.x,
            y=marks.y,
            mode="markers",
            name=name,
            text=marks.text,
            hovertemplate="%{text}<extra></extra>",
            marker={"symbol": symbol, "color": color, "size": 11, "line": {"width": 1}},
        )
        fig.add_trace(scatter, row=1, col=1)


def _markers(fills: Sequence[Fill], reasons: Mapping[str, str]) -> _Markers:
    text = [
        f"{f.side.value} {f.qty} @ {f.price}<br>{reasons.get(f.client_order_id, '')}" for f in fills
    ]
    return _Markers(
        x=np.array([f.ts_ms for f in fills], dtype=np.float64),
        y=np.array([float(f.price) for f in fills], dtype=np.float64),
        text=text,
    )


def _add_curves(fig: go.Figure, result: BacktestResult, x: FloatArray) -> None:
    bench = buy_and_hold_equity(result)
    for name, values, color in (("strategy", result.equity, _BLUE), ("buy & hold", bench, _GREY)):
        keep = decimate(values)
        curve = go.Scatter(x=x[keep], y=values[keep], mode="lines", name=f"equity: {name}")
        fig.add_trace(curve.update(line_color=color, line_width=1.5), row=2, col=1)
    for name, values, color in (("strategy", result.equity, _RED), ("buy & hold", bench, _GREY)):
        drawdown = drawdown_pct(values, result.starting_cash)
        keep = decimate(drawdown)
        area = go.Scatter(x=x[keep], y=drawdown[keep], mode="lines", name=f"drawdown: {name}")
        if name == "strategy":
            area.update(fill="tozeroy")
        fig.add_trace(area.update(line_color=color, line_width=1), row=3, col=1)
