"""A paper or live basket read back from its database: the account's equity on the union of
the symbols' bar times, and each symbol as a ``Leg``, as ``Backtester.run_portfolio`` builds
them from its tapes (``backtest/runner.py``), so the basket report is computed alike.

A symbol's price at a bar time is its last decided bar's close (none before its first), what
it held there is the snapshot the bot saved after that bar time (else its own last decision's
holding), and it is exposed while one of its round trips is open (fee dust is no position).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np

from tradebot.backtest.result import BoolArray, FloatArray, IntArray, Leg
from tradebot.domain.decisions import Decision
from tradebot.domain.orders import Fill, OrderSide
from tradebot.domain.portfolio import Trade
from tradebot.state import PortfolioSnapshot


def in_position(ts: IntArray, trades: list[Trade], fills: list[Fill]) -> BoolArray:
    """Bars closed while a round trip was open. The fee dust a sell leaves (buy fees are
    paid in the base asset) is held but no position, as the engine counts it."""
    opened = np.zeros(len(ts), dtype=bool)
    for trade in trades:
        opened |= (ts >= trade.entry_ts_ms) & (ts < trade.exit_ts_ms)
    last_exit = max((t.exit_ts_ms for t in trades), default=-1)
    # A buy in the bar the last round trip closed in is that trip's (a stop hit in the entry
    # bar): an entry cannot fill while its symbol is held.
    still = [f.ts_ms for f in fills if f.side is OrderSide.BUY and f.ts_ms > last_exit]
    if still:  # bought after the last round trip closed: open at the end
        opened |= ts >= min(still)
    return opened


def account_equity(
    timeline: IntArray, decisions: Sequence[Decision], saved: Mapping[int, PortfolioSnapshot]
) -> FloatArray:
    """The account at each bar time's close: the snapshot saved after it, else the equity
    the last decision of that time recorded (the account's, cash and every holding)."""
    recorded = {d.ts_ms: d.equity for d in decisions if d.action != "skipped"}
    return np.array(
        [
            float(saved[t].equity) if t in saved else recorded.get(t, np.nan)
            for t in timeline.tolist()
        ],
        dtype=np.float64,
    )


def saved_leg(
    timeline: IntArray,
    bars: Sequence[Decision],
    saved: Mapping[int, PortfolioSnapshot],
    exposed: BoolArray,
) -> Leg:
    """One symbol on the basket's timeline from its decided ``bars`` (one per bar, prices in
    their indicators) and the account's snapshots."""
    symbol = bars[0].symbol
    own_ts = np.array([d.ts_ms for d in bars], dtype=np.int64)
    at = np.searchsorted(own_ts, timeline, side="right") - 1  # -1: before its first bar
    known = at >= 0
    k = np.maximum(at, 0)
    own = known & (own_ts[k] == timeline)

    def column(name: str) -> FloatArray:
        return np.array([d.indicators.get(name, np.nan) for d in bars], dtype=np.float64)[k]

    close = np.where(known, column("close"), np.nan)
    decided_qty = np.array([d.position_qty for d in bars], dtype=np.float64)[k]
    qty = np.where(known, decided_qty, 0.0)
    for i, t in enumerate(timeline.tolist()):
        snapshot = saved.get(t)
        if snapshot is not None:
            qty[i] = float(snapshot.positions.get(symbol, Decimal(0)))
    value = qty * np.nan_to_num(close)
    high = np.where(own, column("high"), np.nan)
    low = np.where(own, column("low"), np.nan)
    return Leg(close, high, low, value, exposed)
