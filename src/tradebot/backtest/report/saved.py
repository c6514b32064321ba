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

A database whose bot traded several symbols gives the basket a basket backtest gives: the
account on the union of the symbols' bar times, each symbol a leg (``saved_legs.py``), the
equal-weight buy-and-hold basket as the benchmark; ``symbol`` picks one market instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from tradebot.backtest.report.saved_legs import account_equity, in_position, saved_leg
from tradebot.backtest.result import BacktestResult, FloatArray, Leg, RefusedOrder, basket_prices
from tradebot.domain.decisions import Decision, MetadataValue
from tradebot.domain.errors import StateError
from tradebot.domain.orders import Order, OrderStatus, OrderType
from tradebot.orchestrator.recovery import starting_cash_key
from tradebot.state import PortfolioSnapshot, Repository

_PRICES = ("open", "high", "low", "close")
BoolArray: TypeAlias = npt.NDArray[np.bool_]


def saved_session(
    repo: Repository,
    *,
    mode: str,
    timeframe: str,
    strategy_name: str,
    strategy_config: Mapping[str, MetadataValue],
    symbol: str | None = None,
    listed: Sequence[str] = (),
    strategies: Mapping[str, str] | None = None,
) -> BacktestResult:
    """The session saved in ``repo``: the basket of every symbol decided, or ``symbol``
    alone (one symbol decided: that one).

    ``listed`` orders the basket's symbols (the config's ``trading.symbols``; others follow
    in the order they were first decided); ``strategies`` names each symbol's strategy.

    Raises:
        StateError: the database holds no decision (for that symbol), or only skipped ones:
            nothing decided yet.
    """
    decisions = repo.decisions(symbol=symbol)
    if not decisions:
        where = f" for {symbol}" if symbol else ""
        raise StateError(
            f"{repo.location} holds no decision{where}: run the bot (tradebot run) first"
        )
    if not any("close" in d.indicators for d in decisions):
        raise StateError(
            f"{repo.location} holds only skipped bars (the bot was down): let it decide a bar "
            "(tradebot run) first"
        )
    traded = list(dict.fromkeys(d.symbol for d in decisions))
    if symbol is None and len(traded) > 1:
        order = [s for s in listed if s in traded] + [s for s in traded if s not in listed]
        settings: dict[str, MetadataValue] = {"symbols": ", ".join(order)}
        if strategies and all(s in strategies for s in order):
            settings["strategies"] = ", ".join(f"{s} {strategies[s]}" for s in order)
        return _basket(
            repo, decisions, order, settings, mode, timeframe, strategy_name, strategy_config
        )
    symbol = symbol or decisions[0].symbol
    decided = _one_per_bar([d for d in decisions if d.symbol == symbol])
    bars = _priced(decided)
    ts = np.array([d.ts_ms for d in bars], dtype=np.int64)
    prices = {c: _column(bars, c) for c in _PRICES}
    names = sorted({k for d in bars for k in d.indicators} - {*_PRICES, "volume"})
    equity, held = _marked(bars, repo.snapshots(), symbol)
    start = _starting_cash(symbol, repo, equity)
    trades, fills = repo.trades(symbol), repo.fills(symbol)
    held = np.where(in_position(ts, trades, fills), held, 0.0)
    session: dict[str, MetadataValue] = {"mode": mode, "database": repo.location}
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
        decisions=decided,
        fees_paid=float(
            sum(
                (p.position.fees for p in repo.positions() if p.position.symbol == symbol),
                Decimal(0),
            )
        ),
        refused=_refused(repo.orders(symbol)),
        settings=session,
        indicators={name: _column(bars, name) for name in names},
        mode=mode,
    )


def _one_per_bar(decisions: list[Decision]) -> list[Decision]:
    # A bar decided twice (a restart replaying it) counts once: its newest record.
    by_bar = {d.ts_ms: d for d in decisions}
    return [by_bar[t] for t in sorted(by_bar)]


def _priced(decided: list[Decision]) -> list[Decision]:
    # A bar the bot skipped (too old to trade on after an outage) has no prices, and no
    # snapshot: it is no point of the curve (its record stays among the decisions).
    return [d for d in decided if "close" in d.indicators]


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


def _starting_cash(symbol: str, repo: Repository, equity: FloatArray) -> float:
    saved = repo.get_control(starting_cash_key(symbol.split("/")[-1]))
    if saved is not None:
        return float(saved)
    return float(equity[0]) if len(equity) else 0.0


def _basket(
    repo: Repository,
    decisions: list[Decision],
    symbols: list[str],
    settings: dict[str, MetadataValue],
    mode: str,
    timeframe: str,
    strategy_name: str,
    strategy_config: Mapping[str, MetadataValue],
) -> BacktestResult:
    """Every symbol of the account, as ``Backtester.run_portfolio`` reports a basket."""
    per_bar = {s: _one_per_bar([d for d in decisions if d.symbol == s]) for s in symbols}
    priced = {s: _priced(b) for s, b in per_bar.items()}
    bars = {s: b for s, b in priced.items() if b}  # a symbol only ever skipped has no leg
    timeline = np.unique(np.array([d.ts_ms for b in bars.values() for d in b], dtype=np.int64))
    saved = {s.ts_ms: s for s in repo.snapshots()}
    trades, fills = repo.trades(), repo.fills()
    legs: dict[str, Leg] = {}
    for symbol, own in bars.items():
        mine = [t for t in trades if t.symbol == symbol]
        exposed = in_position(timeline, mine, [f for f in fills if f.symbol == symbol])
        legs[symbol] = saved_leg(timeline, own, saved, exposed)
    basket = basket_prices(
        legs, {s: b[0].indicators.get("open", math.nan) for s, b in bars.items()}
    )
    opens = np.concatenate(([1.0], basket[:-1]))
    equity = account_equity(timeline, decisions, saved)
    return BacktestResult(
        symbol="+".join(legs),
        timeframe=timeframe,
        strategy_name=strategy_name,
        strategy_config=dict(strategy_config),
        starting_cash=_starting_cash(next(iter(legs)), repo, equity),
        ts_ms=timeline,
        open=opens,
        high=np.maximum(opens, basket),
        low=np.minimum(opens, basket),
        close=basket,
        equity=equity,
        position_qty=sum(
            (np.where(leg.exposed, leg.value, 0.0) for leg in legs.values()),
            np.zeros(len(timeline)),
        ),
        trades=trades,
        fills=fills,
        decisions=sorted((d for b in per_bar.values() for d in b), key=lambda d: d.ts_ms),
        fees_paid=float(sum((p.position.fees for p in repo.positions()), Decimal(0))),
        refused=_refused(repo.orders()),
        settings={"mode": mode, "database": repo.location, **settings},
        legs=legs,
        mode=mode,
    )
