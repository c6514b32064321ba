"""Explain a decision from the database: why the bot did what it did at a bar, or in a trade.

Design rule 5: every cycle writes a decision record (the signal and its reason, the indicator
values, each risk check and its verdict, the action, the orders). This module reads those
records back with the orders they sent and the fills those orders got, and writes them out
for a person: ``tradebot explain`` prints it. It only reads, so it works while the bot runs
(the database is WAL) or long after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tradebot.domain.errors import ConfigError
from tradebot.domain.orders import Order
from tradebot.domain.portfolio import Trade
from tradebot.state import LoggedDecision, Repository

_TRADE_ID_MAX = 10**9  # below this a number is a trade id; a time is written as a date


@dataclass(frozen=True, slots=True)
class DecisionExplanation:
    """One logged decision and the orders it sent, with their fills, as saved now."""

    entry: LoggedDecision
    orders: tuple[Order, ...]


@dataclass(frozen=True, slots=True)
class TradeExplanation:
    """A closed trade and the decisions that placed its orders."""

    trade_id: int
    trade: Trade
    decisions: tuple[DecisionExplanation, ...]
    unexplained_orders: tuple[Order, ...]


def parse_time(text: str) -> int:
    """``2024-03-01 12:00``, ``2024-03-01T12:00:00Z`` or with an offset → ms since the epoch.

    A time without an offset is UTC, like every time the bot prints.

    Raises:
        ConfigError: the text is not an ISO 8601 date and time.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise ConfigError(
            f"{text!r} is neither a trade id nor a time: give a trade id from the trade log "
            "(trade_id=...) or a UTC time like 2024-03-01T12:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def explain_decision(entry: LoggedDecision, repo: Repository) -> DecisionExplanation:
    """``entry`` with its orders (and their fills) as the database holds them now."""
    found = (repo.get_order(cid) for cid in entry.decision.client_order_ids)
    return DecisionExplanation(entry, tuple(o for o in found if o is not None))


def explain_time(
    ts_ms: int, repo: Repository, symbol: str | None = None
) -> list[DecisionExplanation]:
    """The decisions of the bar that was open at ``ts_ms`` (the newest at or before it)."""
    return [explain_decision(e, repo) for e in repo.decisions_at(ts_ms, symbol)]


def explain_trade(trade_id: int, repo: Repository) -> TradeExplanation | None:
    """The trade saved as ``trade_id`` and the decision behind each order that filled in it.

    An order's decision is the one of the bar it was created at that lists its client id;
    an order adopted from the venue after a crash has none and is listed apart.
    """
    trade = repo.trade(trade_id)
    if trade is None:
        return None
    fills = [f for f in repo.fills(trade.symbol, trade.entry_ts_ms) if f.ts_ms <= trade.exit_ts_ms]
    order_ids = list(dict.fromkeys(f.client_order_id for f in fills))
    decisions: dict[int, DecisionExplanation] = {}
    unexplained: list[Order] = []
    for order_id in order_ids:
        order = repo.get_order(order_id)
        if order is None:
            continue
        entries = repo.decisions_at(order.created_ts_ms, trade.symbol)
        entry = next((e for e in entries if order_id in e.decision.client_order_ids), None)
        if entry is None:
            unexplained.append(order)
        elif entry.id not in decisions:
            decisions[entry.id] = explain_decision(entry, repo)
    ordered = tuple(decisions[k] for k in sorted(decisions))
    return TradeExplanation(trade_id, trade, ordered, tuple(unexplained))


def explain(what: str, repo: Repository, symbol: str | None = None) -> list[str]:
    """The lines ``tradebot explain WHAT`` prints: WHAT is a trade id or a UTC time.

    Raises:
        ConfigError: WHAT is neither, or nothing in the database matches it.
    """
    text = what.strip()
    if text.isdigit() and int(text) < _TRADE_ID_MAX:
        found = explain_trade(int(text), repo)
        if found is None:
            raise ConfigError(f"no trade {text} in the database: trade ids are in the trade log")
        return trade_lines(found)
    ts_ms = parse_time(text)
    decisions = explain_time(ts_ms, repo, symbol)
    if not decisions:
        raise ConfigError(f"no decision at or before {_iso(ts_ms)} in the database")
    return [line for d in decisions for line in decision_lines(d)]


# --------------------------------------------------------------------------- rendering
def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _number(value: float) -> str:
    return "NaN" if not math.isfinite(value) else f"{value:.6g}"


def trade_lines(found: TradeExplanation) -> list[str]:
    """A trade's summary, then each decision behind it."""
    t = found.trade
    lines = [
        f"trade {found.trade_id}  {t.symbol}  size {t.qty}",
        f"  entry   {_iso(t.entry_ts_ms)} @ {t.entry_price}",
        f"  exit    {_iso(t.exit_ts_ms)} @ {t.exit_price}  ({t.exit_reason or 'no reason saved'})",
        f"  pnl     {t.pnl} after fees {t.fees} ({t.return_pct:.2f} %), held "
        f"{t.duration_ms / 3_600_000:.1f} h",
    ]
    for d in found.decisions:
        lines += ["", *decision_lines(d)]
    for order in found.unexplained_orders:
        lines += ["", "order adopted from the venue (no decision placed it):", *_order_lines(order)]
    return lines


def decision_lines(found: DecisionExplanation) -> list[str]:
    """Signal and reason, indicators, each risk check and verdict, action, orders and fills."""
    d = found.entry.decision
    signal = d.signal
    lines = [
        f"decision {found.entry.id}  {d.symbol}  bar {_iso(d.ts_ms)}  "
        f"(recorded {_iso(found.entry.recorded_ts_ms)})",
        f"  signal      {signal.action} (confidence {signal.confidence:.2f}): {signal.reason}",
    ]
    if signal.metadata:
        lines.append("  signal data " + "  ".join(f"{k}={v}" for k, v in signal.metadata.items()))
    lines += [
        f"    member    {m.name}: {m.action} (confidence {m.confidence:.2f}): {m.reason}"
        for m in signal.members
    ]
    indicators = "  ".join(f"{k}={_number(v)}" for k, v in d.indicators.items())
    lines.append(f"  indicators  {indicators or 'none'}")
    if d.verdict is None:
        lines.append("  risk        not asked (no order proposed)")
    else:
        lines.append(f"  risk        {'approved' if d.verdict.approved else 'rejected'}")
        lines += [
            f"    {'pass' if c.passed else 'FAIL'}  {c.name}: {c.detail}" for c in d.verdict.checks
        ]
    lines.append(f"  action      {d.action}")
    lines.append(
        f"  portfolio   equity {d.equity:.2f}  cash {d.cash:.2f}  position {d.position_qty:g}"
    )
    if not found.orders:
        lines.append("  orders      none")
    for order in found.orders:
        lines += _order_lines(order)
    return lines


def _order_lines(order: Order) -> list[str]:
    price = "" if order.price is None else f" limit {order.price}"
    stop = "" if order.stop_price is None else f" stop {order.stop_price}"
    avg = "" if order.avg_fill_price is None else f" @ {order.avg_fill_price}"
    lines = [
        f"  order       {order.client_order_id}  {order.side} {order.type} {order.qty}"
        f"{price}{stop} → {order.status}, {order.filled_qty} filled{avg}"
        + (f"  ({order.reason})" if order.reason else "")
    ]
    if order.status_reason:
        lines.append(f"    venue     {order.status}: {order.status_reason}")
    for fill in order.fills:
        role = "maker" if fill.is_maker else "taker"
        fee = f"{fill.fee} {fill.fee_asset}" if fill.fee != Decimal(0) else "no fee"
        lines.append(f"    fill      {_iso(fill.ts_ms)}  {fill.qty} @ {fill.price}  {fee} ({role})")
    return lines
