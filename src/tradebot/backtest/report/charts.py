"""The report's plotly figure, stacked panels on one time axis: price with the strategy's
indicators and the fills; oscillators (RSI...) when the strategy has any; equity against
buy-and-hold, both normalised to 1 at the start (a button switches the axis to log);
drawdown; exposure (the share of equity held in positions).

A year of 1m bars is half a million points; drawn as-is the HTML would be tens of megabytes and
the browser would crawl. Above ``CANDLE_LIMIT`` bars the price becomes a close line and every
series is down-sampled to about ``MAX_POINTS`` points, keeping each bucket's minimum and maximum
so spikes and the deepest drawdown stay visible. Times are plotted as epoch milliseconds on a
date axis (compact typed arrays in the HTML). Markers: ``tradebot.backtest.report.markers``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tradebot.backtest.metrics import buy_and_hold_equity, drawdown_pct
from tradebot.backtest.report.markers import add_markers
from tradebot.backtest.result import BacktestResult, FloatArray, IntArray
from tradebot.orchestrator.settings import ATR_COLUMN

CANDLE_LIMIT = 20_000
MAX_POINTS = 5_000
FIGURE_DIV_ID = "tradebot-charts"
_BLUE, _GREY, _DARK, _RED = "#2563eb", "#9ca3af", "#374151", "#dc2626"
_INDICATOR_COLORS = ("#f59e0b", "#8b5cf6", "#0891b2", "#db2777", "#65a30d", "#ea580c")
# The engine's own ATR (for the stops) is no indicator of the strategy's.
_NOT_DRAWN = frozenset({"open", "high", "low", "close", "volume", ATR_COLUMN})


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


def split_indicators(
    result: BacktestResult,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """The strategy's indicators on the price's scale (drawn over it) and the others.

    An indicator belongs over the price when its values fall within half and twice the range
    the prices span (moving averages, channels); RSI and the like go to their own panel.
    """
    overlays: dict[str, FloatArray] = {}
    others: dict[str, FloatArray] = {}
    if not result.n_bars:
        return overlays, others
    floor, ceiling = float(np.nanmin(result.low)) / 2, float(np.nanmax(result.high)) * 2
    for name, values in sorted(result.indicators.items()):
        known = values[np.isfinite(values)]
        if name in _NOT_DRAWN or not len(known):
            continue
        on_price = floor <= float(known.min()) and float(known.max()) <= ceiling
        (overlays if on_price else others)[name] = values
    return overlays, others


def exposure_pct(result: BacktestResult) -> FloatArray:
    """The share of equity held in positions at each close, in percent."""
    held = result.position_qty if result.legs else result.position_qty * result.close
    out = np.zeros(result.n_bars, dtype=np.float64)
    np.divide(held * 100, result.equity, out=out, where=result.equity > 0)
    return out


def build_figure(result: BacktestResult, fill_reasons: Mapping[str, str]) -> go.Figure:
    """The stacked panels; ``fill_reasons`` maps client order ids to why they traded."""
    overlays, oscillators = split_indicators(result)
    titles = [f"{_price_title(result)}", "Equity and buy & hold (start = 1)", "Drawdown (%)"]
    heights = [0.42, 0.28, 0.15]
    if oscillators:
        titles.insert(1, "Indicators")
        heights.insert(1, 0.12)
    titles.append("Exposure (% of equity held)")
    heights.append(0.1)
    fig = make_subplots(
        rows=len(titles),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.035,
        row_heights=heights,
        subplot_titles=titles,
    )
    x = result.ts_ms.astype(np.float64)
    keep = decimate(result.close) if result.n_bars > CANDLE_LIMIT else None
    scale = basket_scale(result)
    if scale:
        _add_legs(fig, result, x, scale)
    else:
        _add_price(fig, result, x, keep)
        _add_lines(fig, overlays, x, keep, row=1)
    add_markers(fig, result.fills, fill_reasons, (result.ts_ms, result.low, result.high), scale)
    row = 2
    if oscillators:
        _add_lines(fig, oscillators, x, keep, row=2)
        row = 3
    _add_curves(fig, result, x, row)
    fig.update_layout(
        height=1150 if oscillators else 1050,
        template="plotly_white",
        hovermode="x unified",
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        updatemenus=[_log_toggle(fig, row)],
    )
    _legend_per_panel(fig)
    fig.update_xaxes(type="date", rangeslider_visible=False)
    price_unit = "× start" if scale else result.symbol.split("/")[-1]
    fig.update_yaxes(title_text=price_unit, row=1, col=1)
    fig.update_yaxes(title_text="× start", row=row, col=1)
    fig.update_yaxes(title_text="%", row=row + 1, col=1)
    fig.update_yaxes(title_text="%", range=[0, 105], row=row + 2, col=1)
    return fig


def _price_title(result: BacktestResult) -> str:
    if result.legs:
        return f"{', '.join(result.legs)} and their equal-weight basket (start = 1)"
    return f"{result.symbol} price"


def basket_scale(result: BacktestResult) -> dict[str, float]:
    """A basket's price panel draws each symbol from 1 (its first close): the divisor of
    each symbol's prices. Empty for a single symbol, drawn in its own prices."""
    scale = {}
    for symbol, leg in result.legs.items():
        known = leg.close[np.isfinite(leg.close)]
        scale[symbol] = float(known[0]) if len(known) and known[0] > 0 else 1.0
    return scale


def _add_legs(
    fig: go.Figure, result: BacktestResult, x: FloatArray, scale: Mapping[str, float]
) -> None:
    for k, (symbol, leg) in enumerate(result.legs.items()):
        growth = leg.close / scale[symbol]
        keep = decimate(np.nan_to_num(growth, nan=1.0))
        line = go.Scatter(x=x[keep], y=growth[keep], mode="lines", name=symbol)
        color = _INDICATOR_COLORS[k % len(_INDICATOR_COLORS)]
        fig.add_trace(line.update(line_color=color, line_width=1.2), row=1, col=1)
    keep = decimate(result.close)
    basket = go.Scatter(x=x[keep], y=result.close[keep], mode="lines", name="equal-weight basket")
    fig.add_trace(basket.update(line_color=_DARK, line_width=1.5, line_dash="dot"), row=1, col=1)


def _add_price(
    fig: go.Figure, result: BacktestResult, x: FloatArray, keep: IntArray | None
) -> None:
    if keep is None:
        candles = go.Candlestick(
            x=x,
            open=result.open,
            high=result.high,
            low=result.low,
            close=result.close,
            name=result.symbol if not result.legs else "basket",
            increasing_line_color="#16a34a",
            decreasing_line_color=_RED,
        )
        fig.add_trace(candles, row=1, col=1)
        return
    line = go.Scatter(x=x[keep], y=result.close[keep], mode="lines", name=f"{result.symbol} close")
    fig.add_trace(line.update(line_color=_DARK, line_width=1), row=1, col=1)


def _add_lines(
    fig: go.Figure, series: Mapping[str, FloatArray], x: FloatArray, keep: IntArray | None, row: int
) -> None:
    for k, (name, values) in enumerate(series.items()):
        xs, ys = (x, values) if keep is None else (x[keep], values[keep])
        line = go.Scatter(x=xs, y=ys, mode="lines", name=name, connectgaps=False)
        color = _INDICATOR_COLORS[k % len(_INDICATOR_COLORS)]
        fig.add_trace(line.update(line_color=color, line_width=1.2), row=row, col=1)


def _add_curves(fig: go.Figure, result: BacktestResult, x: FloatArray, row: int) -> None:
    bench = buy_and_hold_equity(result)
    start = result.starting_cash if result.starting_cash > 0 else 1.0
    for name, values, color in (("strategy", result.equity, _BLUE), ("buy & hold", bench, _GREY)):
        growth = values / start
        keep = decimate(growth)
        curve = go.Scatter(x=x[keep], y=growth[keep], mode="lines", name=f"equity: {name}")
        fig.add_trace(curve.update(line_color=color, line_width=1.5), row=row, col=1)
    for name, values, color in (("strategy", result.equity, _RED), ("buy & hold", bench, _GREY)):
        drawdown = drawdown_pct(values, result.starting_cash)
        keep = decimate(drawdown)
        area = go.Scatter(x=x[keep], y=drawdown[keep], mode="lines", name=f"drawdown: {name}")
        if name == "strategy":
            area.update(fill="tozeroy")
        fig.add_trace(area.update(line_color=color, line_width=1), row=row + 1, col=1)
    exposure = exposure_pct(result)
    keep = decimate(exposure)
    area = go.Scatter(x=x[keep], y=exposure[keep], mode="lines", name="exposure", fill="tozeroy")
    fig.add_trace(area.update(line_color=_BLUE, line_width=1), row=row + 2, col=1)


def _legend_per_panel(fig: go.Figure) -> None:
    # One legend in each panel's top-left corner, naming only that panel's lines (above the
    # panel it would run into the panel's title).
    names: dict[str, str] = {}
    for trace in fig.data:
        axis = "yaxis" + str(trace.yaxis or "y")[1:]
        legend = names.setdefault(axis, "legend" if not names else f"legend{len(names) + 1}")
        trace.legend = legend
    for axis, legend in names.items():
        top = float(fig.layout[axis].domain[1])
        fig.layout[legend] = {
            "orientation": "h",
            "x": 0.005,
            "xanchor": "left",
            "y": top,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.75)",
            "font": {"size": 11},
        }


def _log_toggle(fig: go.Figure, row: int) -> dict[str, object]:
    # A button pair over the equity panel: its y-axis linear or log.
    axis = fig.get_subplot(row, 1).yaxis.plotly_name
    domain = fig.layout[axis].domain
    return {
        "type": "buttons",
        "direction": "right",
        "x": 1.0,
        "xanchor": "right",
        "y": float(domain[1]) + 0.005,
        "yanchor": "bottom",
        "showactive": True,
        "active": 0,
        "pad": {"r": 0, "t": 0},
        "font": {"size": 11},
        "buttons": [
            {"label": "linear", "method": "relayout", "args": [{f"{axis}.type": "linear"}]},
            {"label": "log", "method": "relayout", "args": [{f"{axis}.type": "log"}]},
        ],
    }


def contribution_figure(result: BacktestResult, gained: Mapping[str, FloatArray]) -> go.Figure:
    """Each basket symbol's gain over time (quote currency); together they are the PnL."""
    fig = go.Figure()
    x = result.ts_ms.astype(np.float64)
    for k, (symbol, values) in enumerate(gained.items()):
        keep = decimate(values)
        line = go.Scatter(x=x[keep], y=values[keep], mode="lines", name=symbol)
        color = _INDICATOR_COLORS[k % len(_INDICATOR_COLORS)]
        fig.add_trace(line.update(line_color=color, line_width=1.5))
    fig.update_layout(
        title="Contribution to equity by symbol",
        height=360,
        template="plotly_white",
        hovermode="x unified",
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        yaxis_title=result.symbol.split("/")[-1].split("+")[0],
    )
    fig.update_xaxes(type="date")
    return fig
