"""Entry and exit markers on the price chart that stay readable at 10,000 trades.

Up to ``MARKER_LIMIT`` fills each fill is a triangle with its reason. Beyond that, triangles
would hide the price, so the whole-run view shows one marker per time bucket and side
(``BUCKETS`` buckets), entries under the bucket's lowest low and exits over its highest high
so the line between them stays visible; its hover says how many fills it stands for. Zoomed
in to a window holding at most ``MARKER_LIMIT`` fills, the page's script (``zoom_script``)
draws those fills one by one from a compact table embedded in the page, and puts the
buckets back when zoomed out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from tradebot.backtest.breakdown import signal_kind
from tradebot.backtest.result import FloatArray, IntArray
from tradebot.domain.orders import Fill, OrderSide

MARKER_LIMIT = 1_000
BUCKETS = 120
ENTRY_NAME, EXIT_NAME = "entry (buy)", "exit (sell)"
_GREEN, _RED = "#16a34a", "#dc2626"
_PAD = 0.02  # of the price range: how far a bucket's marker sits from the line


@dataclass(frozen=True, slots=True)
class Markers:
    """One side's markers: positions, hover text and sizes."""

    x: FloatArray | list[float]
    y: FloatArray | list[float]
    text: list[str]
    size: list[float] | float


def is_aggregated(fills: Sequence[Fill]) -> bool:
    """True when the run has too many fills to draw one by one."""
    return len(fills) > MARKER_LIMIT


def add_markers(
    fig: go.Figure,
    fills: Sequence[Fill],
    reasons: Mapping[str, str],
    bars: tuple[IntArray, FloatArray, FloatArray],
    scale: Mapping[str, float] | None = None,
) -> None:
    """Add the entry and exit traces to row 1; ``bars`` are the price panel's times, lows and
    highs; ``scale`` divides each symbol's prices (a basket's panel starts each at 1)."""
    for side, name, symbol, color in (
        (OrderSide.BUY, ENTRY_NAME, "triangle-up", _GREEN),
        (OrderSide.SELL, EXIT_NAME, "triangle-down", _RED),
    ):
        chosen = [f for f in fills if f.side is side]
        many = is_aggregated(fills)
        marks = _buckets(chosen, side, bars) if many else _each(chosen, reasons, scale or {})
        scatter = go.Scatter(
            x=marks.x,
            y=marks.y,
            mode="markers",
            name=name,
            text=marks.text,
            hovertemplate="%{text}<extra></extra>",
            marker={
                "symbol": symbol,
                "color": color,
                "size": marks.size,
                "opacity": 0.8,
                "line": {"width": 1, "color": "#111827"},
            },
        )
        fig.add_trace(scatter, row=1, col=1)


def zoom_script(
    div_id: str,
    fills: Sequence[Fill],
    reasons: Mapping[str, str],
    scale: Mapping[str, float] | None = None,
) -> str:
    """The page's script that draws single fills when zoomed in (see the module's docstring).

    The fills travel as compact JSON: times, prices, amounts, sides and reasons (each
    distinct reason once, measured values dropped; the decision log keeps them).
    """
    table = _fill_table(fills, reasons, scale or {}).replace("</", "<\\/")  # no early </script>
    return (
        f"<script>{_ZOOM_JS.replace('DIV_ID', json.dumps(div_id)).replace('FILLS', table)}</script>"
    )


def _fill_table(
    fills: Sequence[Fill], reasons: Mapping[str, str], scale: Mapping[str, float]
) -> str:
    # "p" places the marker; "v", the price traded, is there only when a scale moved it.
    kinds: dict[str, int] = {}
    rows: dict[str, list[float | int]] = {"t": [], "p": [], "q": [], "b": [], "r": []}
    if scale:
        rows["v"] = []
    for f in sorted(fills, key=lambda f: f.ts_ms):
        kind = signal_kind(reasons.get(f.client_order_id, ""))
        rows["t"].append(f.ts_ms)
        rows["p"].append(float(f.price) / scale.get(f.symbol, 1.0))
        if scale:
            rows["v"].append(float(f.price))
        rows["q"].append(float(f.qty))
        rows["b"].append(1 if f.side is OrderSide.BUY else 0)
        rows["r"].append(kinds.setdefault(kind, len(kinds)))
    table = {**rows, "reasons": list(kinds), "limit": MARKER_LIMIT}
    return json.dumps(table, separators=(",", ":"))


def _each(fills: Sequence[Fill], reasons: Mapping[str, str], scale: Mapping[str, float]) -> Markers:
    text = [
        f"{f.symbol} {f.side.value} {f.qty} @ {f.price}<br>{reasons.get(f.client_order_id, '')}"
        for f in fills
    ]
    return Markers(
        x=np.array([f.ts_ms for f in fills], dtype=np.float64),
        y=np.array([float(f.price) / scale.get(f.symbol, 1.0) for f in fills], dtype=np.float64),
        text=text,
        size=12.0,
    )


def _buckets(
    fills: Sequence[Fill], side: OrderSide, bars: tuple[IntArray, FloatArray, FloatArray]
) -> Markers:
    ts, low, high = bars
    if not fills or not len(ts):
        return Markers([], [], [], 8.0)
    edges = np.linspace(float(ts[0]), float(ts[-1]) + 1, BUCKETS + 1)
    when = np.array([f.ts_ms for f in fills], dtype=np.float64)
    bucket = np.clip(np.searchsorted(edges, when, side="right") - 1, 0, BUCKETS - 1)
    bar_bucket = np.clip(np.searchsorted(edges, ts, side="right") - 1, 0, BUCKETS - 1)
    pad = _PAD * float(np.nanmax(high) - np.nanmin(low))
    xs: list[float] = []
    ys: list[float] = []
    text: list[str] = []
    counts: list[int] = []
    for b in np.unique(bucket):
        in_bars = bar_bucket == b
        at = when[bucket == b]
        xs.append(float(np.median(at)))
        if not in_bars.any():  # fills outside the drawn bars: at their own prices
            ys.append(float(np.median([float(f.price) for f in fills])))
        elif side is OrderSide.BUY:
            ys.append(float(np.nanmin(low[in_bars])) - pad)
        else:
            ys.append(float(np.nanmax(high[in_bars])) + pad)
        counts.append(len(at))
        what = "entries" if side is OrderSide.BUY else "exits"
        text.append(f"{len(at):,} {what} in this stretch<br>zoom in to see each one")
    sizes = (6 + 3 * np.log10(np.asarray(counts, dtype=np.float64))).tolist()
    # Plain lists, not typed arrays: the zoom script keeps and puts back these very values.
    return Markers(xs, ys, text, sizes)


# Plotly keeps the shared x-axis range as UTC date strings ("2024-03-05 10:22:13.4512").
_ZOOM_JS = """
(function () {
  var gd = document.getElementById(DIV_ID), F = FILLS;
  if (!gd || !window.Plotly || !gd.on) { return; }
  var traces = [], whole = [];
  gd.data.forEach(function (tr, i) {
    if (tr.name === "entry (buy)" || tr.name === "exit (sell)") {
      traces.push(i);
      whole.push({x: tr.x.map(day), y: tr.y, text: tr.text, size: tr.marker.size});
    }
  });
  if (traces.length !== 2) { return; }
  // Dates as plotly writes them, in UTC ("2024-02-15 15:11:00.000").
  function day(t) { return new Date(t).toISOString().replace("T", " ").replace("Z", ""); }
  function ms(v) {
    if (typeof v === "number") { return v; }
    var s = String(v).trim();
    if (s.length <= 10) { s += " 00:00"; }
    return Date.parse(s.replace(" ", "T").replace(/(\\.\\d{3})\\d+/, "$1") + "Z");
  }
  function lower(v) {
    var lo = 0, hi = F.t.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (F.t[mid] < v) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }
  var zoomed = false;
  function starts(keys, prefix) {
    return keys.some(function (k) { return k.indexOf(prefix) === 0; });
  }
  function moved(keys) {  // the range of the x-axis the user moved (they all share it)
    for (var k = 0; k < keys.length; k++) {
      var m = /^(xaxis\\d*)\\.(range|autorange)/.exec(keys[k]);
      if (m && gd.layout[m[1]]) { return gd.layout[m[1]].range; }
    }
    return gd.layout.xaxis.range;
  }
  function show(event) {
    // Plotly.update below fires plotly_update, not plotly_relayout: no loop back here.
    var keys = Object.keys(event || {}), r = moved(keys);
    if (!r || !starts(keys, "xaxis")) { return; }
    var ownY = starts(keys, "yaxis.range") || starts(keys, "yaxis.autorange");
    var a = lower(ms(r[0])), b = lower(ms(r[1]) + 1);
    // New data makes plotly guess the axis type again from the price line's epoch numbers
    // (linear); the x-axis stays a date axis. Its range is left alone: the zoom set it.
    var view = {"xaxis.type": "date"};
    if (b - a > F.limit) {
      if (!zoomed) { return; }
      zoomed = false;
      if (!ownY) { view["yaxis.autorange"] = true; }
      Plotly.update(gd, {
        x: whole.map(function (w) { return w.x; }), y: whole.map(function (w) { return w.y; }),
        text: whole.map(function (w) { return w.text; }),
        "marker.size": whole.map(function (w) { return w.size; })
      }, view, traces);
      return;
    }
    var side = [{x: [], y: [], text: []}, {x: [], y: [], text: []}];
    for (var i = a; i < b; i++) {
      var s = side[F.b[i] ? 0 : 1];
      s.x.push(day(F.t[i])); s.y.push(F.p[i]);
      var what = (F.b[i] ? "buy " : "sell ") + F.q[i] + " @ " + (F.v || F.p)[i];
      s.text.push(what + "<br>" + F.reasons[F.r[i]]);
    }
    zoomed = true;
    if (b > a && !ownY) {  // the price axis fitted to the fills in view, as a box zoom does
      var prices = F.p.slice(a, b);
      var low = Math.min.apply(null, prices), high = Math.max.apply(null, prices);
      var pad = (high - low) * 0.25 || high * 0.01;
      view["yaxis.range"] = [low - pad, high + pad];
      view["yaxis.autorange"] = false;
    }
    Plotly.update(gd, {
      x: [side[0].x, side[1].x], y: [side[0].y, side[1].y], text: [side[0].text, side[1].text],
      "marker.size": [12, 12]
    }, view, traces);
  }
  // After plotly has finished the zoom that fired the event: redrawing inside it breaks it.
  gd.on("plotly_relayout", function (event) { setTimeout(function () { show(event); }, 0); });
})();
"""
