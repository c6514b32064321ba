"""The alert rules: from a persisted fact to the alert a person reads.

Each function is pure: the AlertManager reads the facts and passes them in. Subjects make
repeats recognisable: one alert per order, per trade, per outage, per UTC day; a condition
that holds (a drawdown) keeps its subject, so the cool-down turns it into a reminder.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tradebot.domain.alerts import Alert, AlertRule
from tradebot.domain.decisions import Decision
from tradebot.domain.orders import Order
from tradebot.domain.portfolio import Position, Trade
from tradebot.state.reconcile import DiscrepancyKind, Fix
from tradebot.state.rows import ReconciliationEvent

DAILY_LOSS_CHECK = "max_daily_loss"


def when(ts_ms: int) -> str:
    """``ts_ms`` as a UTC time a person reads."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def order_failed(order: Order, refusal: str) -> Alert:
    """An order the venue refused (``refusal``: its words, when known), or never sent."""
    price = f" @ {order.price}" if order.price is not None else ""
    return Alert(
        AlertRule.ORDER_FAILED,
        order.client_order_id,
        f"Order failed: {order.side} {order.symbol}",
        f"{order.type} {order.side} {order.qty} {order.symbol}{price} "
        f"({order.client_order_id}, {order.reason or 'no purpose saved'}) was not executed: "
        f"{refusal or 'refused or not sent; the bot log says why'}. "
        f"At {when(order.updated_ts_ms)}.",
    )


def from_reconciliation(event: ReconciliationEvent) -> Alert | None:
    """A halt, or a position that is not what the fills say, found by reconciliation."""
    found = event.discrepancy
    text = (
        f"{found.kind} {found.subject_id}: saved {found.local_value}, "
        f"exchange {found.exchange_value}. {found.detail}".strip()
    )
    if found.fix is Fix.HALT:
        return Alert(
            AlertRule.RECONCILIATION_HALT,
            f"{found.kind}:{found.subject_id}",
            "Reconciliation halted trading",
            f"{text}\nTrading stays halted until a person looks: `tradebot status`, then "
            "`tradebot resume`.",
        )
    if found.kind is DiscrepancyKind.POSITION_QTY:
        return Alert(
            AlertRule.POSITION_NOT_FOUND,
            f"{found.subject_id}:{event.ts_ms}",
            f"Position not as expected after fills: {found.subject_id}",
            f"{text}\nThe exchange's amount was adopted ({found.fix}).",
        )
    return None


def daily_loss_check_failed(decision: Decision) -> Alert | None:
    """The risk controller refused an order because the day's loss limit is reached."""
    checks = decision.verdict.checks if decision.verdict is not None else ()
    failed = [c for c in checks if c.name == DAILY_LOSS_CHECK and not c.passed]
    if not failed:
        return None
    return daily_loss(decision.ts_ms, failed[0].detail)


def daily_loss(ts_ms: int, detail: str) -> Alert:
    """The UTC day's loss reached its limit (one alert a day)."""
    day = when(ts_ms)[:10]
    return Alert(
        AlertRule.DAILY_LOSS_LIMIT,
        day,
        f"Daily loss limit hit ({day})",
        f"{detail}. New entries are refused until the next UTC day.",
    )


def exchange_unreachable(down_s: float, error: str) -> Alert:
    """The exchange has not answered for ``down_s`` seconds."""
    return Alert(
        AlertRule.EXCHANGE_UNREACHABLE,
        "exchange",
        f"Exchange unreachable for {down_s / 60:.0f} min",
        f"No poll has reached the exchange for {down_s:.0f} s. Last error: {error or 'none'}. "
        "Resting stop orders stay on the exchange.",
    )


def persistence_failure(errors: list[str]) -> Alert:
    """The bot could not save its state (it keeps trading safely: no new entries)."""
    return Alert(
        AlertRule.PERSISTENCE_FAILURE,
        "database",
        "State not saved: the database write failed",
        f"{len(errors)} failed write(s); last: {errors[-1]}. New entries stop until the "
        "state is saved; check the disk and the database.",
    )


def bot_stopped(detail: str) -> Alert:
    """The bot stopped without being asked to."""
    return Alert(AlertRule.BOT_STOPPED, "bot", "Bot stopped unexpectedly", detail)


def service_alert(event_id: str, source: str, kind: str, detail: str, ts_ms: int) -> Alert:
    """An alert a service published on the bus (a signal too old to trade, a message it
    could not read); one per event (``event_id``)."""
    body = f"{detail} At {when(ts_ms)}."
    return Alert(AlertRule.SERVICE_ALERT, event_id, f"{source}: {kind}", body)


def slippage(order: Order, reference: Decimal, pct: float, limit_pct: float) -> Alert:
    """A fill further from its order's price than expected."""
    return Alert(
        AlertRule.SLIPPAGE,
        order.client_order_id,
        f"Slippage {pct * 100:.2f}% on {order.symbol}",
        f"{order.type} {order.side} {order.filled_qty} {order.symbol} filled at "
        f"{order.avg_fill_price} against {reference} ({pct * 100:.2f}%, more than "
        f"{limit_pct * 100:.2f}%).",
    )


def win_rate(wins: int, trades: int, minimum: float) -> Alert:
    """The recent win rate fell below the threshold."""
    return Alert(
        AlertRule.WIN_RATE,
        "recent",
        f"Win rate {wins / trades:.0%} over the last {trades} trades",
        f"{wins} of the last {trades} trades won, below the {minimum:.0%} threshold.",
    )


def api_latency(latency_ms: float, limit_ms: int) -> Alert:
    """Exchange calls got slower than the threshold."""
    return Alert(
        AlertRule.API_LATENCY,
        "exchange",
        f"Exchange API slow: {latency_ms:.0f} ms",
        f"Exchange calls took {latency_ms:.0f} ms on average lately (threshold {limit_ms} ms).",
    )


def drawdown(equity: Decimal, peak: Decimal, limit: float) -> Alert:
    """Equity is further below its peak than the threshold."""
    depth = float((peak - equity) / peak) if peak else 0.0
    return Alert(
        AlertRule.DRAWDOWN,
        "equity",
        f"Drawdown {depth:.1%}",
        f"Equity {equity} is {depth:.1%} below its peak {peak} (threshold {limit:.0%}).",
    )


def position_age(position: Position, hours: float, limit_h: float) -> Alert:
    """A position has been open longer than the threshold."""
    return Alert(
        AlertRule.POSITION_AGE,
        f"{position.symbol}:{position.opened_ts_ms}",
        f"{position.symbol} open for {hours:.0f} h",
        f"{position.qty} {position.symbol} at {position.avg_price:.8g} since "
        f"{when(position.opened_ts_ms)} ({hours:.0f} h, threshold {limit_h:.0f} h).",
    )


def trade_opened(position: Position) -> Alert:
    """A position was opened (the first fill of a round trip)."""
    return Alert(
        AlertRule.TRADE_OPENED,
        f"{position.symbol}:{position.opened_ts_ms}",
        f"Opened {position.symbol}",
        f"Bought {position.qty} {position.symbol} at {position.avg_price:.8g} "
        f"({when(position.opened_ts_ms)}).",
    )


def trade_closed(trade: Trade) -> Alert:
    """A round trip closed."""
    result = "profit" if trade.pnl > 0 else "loss"
    return Alert(
        AlertRule.TRADE_CLOSED,
        f"{trade.symbol}:{trade.entry_ts_ms}:{trade.exit_ts_ms}",
        f"Closed {trade.symbol}: {result} {trade.pnl:+.2f}",
        f"{trade.qty} {trade.symbol}: in {trade.entry_price} -> out {trade.exit_price}, "
        f"PnL {trade.pnl:+.4f} after {trade.fees:.4f} fees ({trade.return_pct:+.2f}%), "
        f"{trade.exit_reason or 'no reason'}; held {trade.duration_ms / 3_600_000:.1f} h.",
    )


def daily_summary(day: str, trades: list[Trade], equity: Decimal | None) -> Alert:
    """The UTC day's trades and result."""
    pnl = sum((t.pnl for t in trades), Decimal(0))
    wins = sum(1 for t in trades if t.pnl > 0)
    lines = [f"{len(trades)} trades, {wins} won, PnL {pnl:+.2f}."]
    if equity is not None:
        lines.append(f"Equity at the last bar: {equity:.2f}.")
    return Alert(AlertRule.DAILY_SUMMARY, day, f"Daily summary {day}", "\n".join(lines))
