"""A paper or live session read back from its database as a ``BacktestResult``, so that
``tradebot report --db`` writes the very report a backtest writes, from the same metric and
report code (no second copy of either).

What each part comes from (``tradebot.state`` hides the SQL):

* the bars: the decision log, one record per bar decided (holds included), whose indicators
  carry the bar's open, high, low and close beside the strategy's own columns;
* equity and holdings: the portfolio snapshot saved after each bar (the decision's own
  figures where a bar has no snapshot);
* trades, fills and the decisions: their tables; refused orders: the orders REJECTED, and
  market orders EXPIRED unfilled;
* the starting cash: the balance the bot started its ledger with (``starting_cash:<quote>``),
  else the first snapshot's equity;
* fees: each saved position's fees, charged in the quote currency as the ledger does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tradebot.backtest.result import BacktestResult, FloatArray, IntArray, RefusedOrder
from tradebot.domain.decisions import Decision, MetadataValue
from tradebot.domain.errors import StateError
from tradebot.domain.orders import Fill, Order, OrderSide, OrderStatus, OrderType
from tradebot.domain.portfolio import Trade
from tradebot.orchestrator.recovery import starting_cash_key
from tradebot.state import PortfolioSnapshot, Repository

_PRICES = ("open", "high", "low", "close")
BoolArray = npt.NDArray[np.bool_]


def saved_session(
    repo: Repository,
    *,
    mode: str,
    timeframe: str,
    strategy_name: str,
    strategy_config: Mapping[str, MetadataValue],
    symbol: str | None = None,
) -> BacktestResult:
    """The session saved in ``repo`` for ``symbol`` (default: the first symbol decided).

    Raises:
        StateError: the database holds no decision (for that symbol): nothing traded yet.
    """
    decisions = repo.decisions(symbol=symbol)
    if not decisions:
        where = f" for {symbol}" if symbol else ""
        raise StateError(
            f"{repo.location} holds no decision{where}: run the bot (tradebot run) first"
        )
    symbol = symbol or decisions[0].symbol
    bars = _one_per_bar([d for d in decisions if d.symbol == symbol])
    ts = np.array([d.ts_ms for d in bars], dtype=np.int64)
    prices = {c: _column(bars, c) for c in _PRICES}
    names = sorted({k for d in bars for k in d.indicators} - {*_PRICES, "volume"})
    equity, held = _marked(bars, repo.snapshots(), symbol)
    start = _starting_cash(repo, symbol, equity)
    trades, fills = repo.trades(symbol), repo.fills(symbol)
    held = np.where(_in_position(ts, trades, fills), held, 0.0)
    settings: dict[str, MetadataValue] = {"mode": mode, "database": repo.location}
    return BacktestResult(
        symbol=symbol,
        timeframe=timeframe,
        strategy_name=strategy_name,
        strategy_config=dict(strategy_config),
        starting_cash=start,
        ts_ms=ts,
        open=prices["open"],
        high=prices["high"],
        low=prices["low"],
        close=prices["close"],
        equity=equity,
        position_qty=held,
        trades=trades,
        fills=fills,
        decisions=bars,
        fees_paid=float(
            sum(
                (p.position.fees for p in repo.positions() if p.position.symbol == symbol),
                Decimal(0),
            )
        ),
        refused=_refused(repo.orders(symbol)),
        settings=settings,
        indicators={name: _column(bars, name) for name in names},
        mode=mode,
    )


def _one_per_bar(decisions: list[Decision]) -> list[Decision]:
    # A bar decided twice (a restart replaying it) counts once: its newest record.
    by_bar = {d.ts_ms: d for d in decisions}
    return [by_bar[t] for t in sorted(by_bar)]


def _column(bars: list[Decision], name: str) -> FloatArray:
    return np.array([d.indicators.get(name, math.nan) for d in bars], dtype=np.float64)


def _marked(
    bars: list[Decision], snapshots: list[PortfolioSnapshot], symbol: str
) -> tuple[FloatArray, FloatArray]:
    """Equity and the base amount held at each bar's close: the bar's snapshot, else what
    its decision recorded."""
    saved = {s.ts_ms: s for s in snapshots}
    equity = np.empty(len(bars), dtype=np.float64)
    held = np.empty(len(bars), dtype=np.float64)
    for i, decision in enumerate(bars):
        snapshot = saved.get(decision.ts_ms)
        if snapshot is None:
            equity[i], held[i] = decision.equity, decision.position_qty
        else:
            equity[i] = float(snapshot.equity)
            held[i] = float(snapshot.positions.get(symbol, Decimal(0)))
    return equity, held


def _in_position(ts: IntArray, trades: list[Trade], fills: list[Fill]) -> BoolArray:
    """Bars closed while a round trip was open. The fee dust a sell leaves (buy fees are
    paid in the base asset) is held but no position, as the engine counts it."""
    opened = np.zeros(len(ts), dtype=bool)
    for trade in trades:
        opened |= (ts >= trade.entry_ts_ms) & (ts < trade.exit_ts_ms)
    last_exit = max((t.exit_ts_ms for t in trades), default=-1)
    still = [f.ts_ms for f in fills if f.side is OrderSide.BUY and f.ts_ms >= last_exit]
    if still:  # bought after the last round trip closed: open at the end
        opened |= ts >= min(still)
    return opened


def _refused(orders: list[Order]) -> tuple[RefusedOrder, ...]:
    """Orders the venue refused when sent, or expired unfilled at their fill (a market
    order); an OCO partner expiring as its other leg fills is no refusal."""
    refused = [
        o
        for o in orders
        if not o.filled_qty
        and (
            o.status is OrderStatus.REJECTED
            or (o.status is OrderStatus.EXPIRED and o.type is OrderType.MARKET)
        )
    ]
    return tuple(
        RefusedOrder(
            o.updated_ts_ms or o.created_ts_ms,
            o.symbol,
            o.client_order_id,
            o.side.value,
            o.type.value,
            o.qty,
            o.status,
            o.status_reason or o.reason,  # the venue's words; older rows have only ours
        )
        for o in refused
    )


def _starting_cash(repo: Repository, symbol: str, equity: FloatArray) -> float:
    saved = repo.get_control(starting_cash_key(symbol.split("/")[-1]))
    if saved is not None:
        return float(saved)
    return float(equity[0]) if len(equity) else 0.0
