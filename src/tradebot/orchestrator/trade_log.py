"""The trade log (design VI.E): one structured INFO line per order sent, fill and closed trade.

The lines go through structlog like every other log line, so they are JSON with
``--log-json`` and carry the same secret masking; none of their fields holds a secret. The
``trade_id`` of a closed trade is its row id, the number ``tradebot explain`` takes.

``BotObserver`` is the seam a monitor (metrics) plugs into the running bot through: the bot
calls it at the same moments it writes these lines, so monitoring reads the bot without the
engine or the shell importing monitoring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

import structlog

from tradebot.domain.commands import PlaceOrder, Step
from tradebot.domain.locks import utc_text
from tradebot.domain.orders import Fill
from tradebot.domain.portfolio import Trade

log = structlog.get_logger("tradebot.trades")
_HOUR_MS = 3_600_000


@dataclass(slots=True)
class BotStats:
    """Counters a person (and the tests) can read."""

    cycles: int = 0
    orders_sent: int = 0
    fills: int = 0
    errors: int = 0


class BotObserver(Protocol):
    """What a running bot reports as it trades; every method must return quickly."""

    def on_candles(self, venue_now_ms: int, newest_close_ms: Mapping[str, int]) -> None:
        """The venue's clock and, per symbol that has one, the close time of its newest
        closed candle, at each poll."""

    def on_cycle(self, bar_ts_ms: int, duration_s: float) -> None:
        """A decision cycle for the bar opening at ``bar_ts_ms`` took ``duration_s``."""

    def on_order_sent(self, order: PlaceOrder) -> None:
        """The venue accepted ``order`` (its intent was saved before it was sent)."""

    def on_saved(self, step: Step, trade_ids: Sequence[int]) -> None:
        """``step`` is committed to the database; ``trade_ids`` are its trades' row ids."""


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def log_order_sent(order: PlaceOrder) -> None:
    """Write the line of an order the venue accepted."""
    log.info(
        "order sent",
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side.value,
        type=order.type.value,
        qty=str(order.qty),
        price=_text(order.price),
        stop_price=_text(order.stop_price),
        take_profit_price=_text(order.take_profit_price),
        take_profit_id=order.take_profit_id,
        reason=order.reason,
    )


def log_fill(fill: Fill) -> None:
    """Write the line of a fill saved to the database."""
    log.info(
        "fill",
        client_order_id=fill.client_order_id,
        symbol=fill.symbol,
        side=fill.side.value,
        qty=str(fill.qty),
        price=str(fill.price),
        fee=str(fill.fee),
        fee_asset=fill.fee_asset,
        maker=fill.is_maker,
        exchange_trade_id=fill.trade_id,
        time=_iso(fill.ts_ms),
    )


def log_trade(trade: Trade, trade_id: int) -> None:
    """Write the line of a closed round trip, with the fields of design VI.E's trade log."""
    log.info(
        "trade closed",
        trade_id=trade_id,
        symbol=trade.symbol,
        entry_time=_iso(trade.entry_ts_ms),
        entry_price=str(trade.entry_price),
        exit_time=_iso(trade.exit_ts_ms),
        exit_price=str(trade.exit_price),
        size=str(trade.qty),
        fees=str(trade.fees),
        pnl=str(trade.pnl),
        pnl_pct=round(trade.return_pct, 4),
        duration_hours=round(trade.duration_ms / _HOUR_MS, 4),
        exit_reason=trade.exit_reason,
    )


def log_saved(step: Step, trade_ids: Sequence[int]) -> None:
    """Write the lines of a committed step: its fills, the trades they closed, the locks
    those set."""
    for fill in step.fills:
        log_fill(fill)
    for trade, trade_id in zip(step.trades, trade_ids, strict=True):
        log_trade(trade, trade_id)
    for lock in step.locks:
        log.warning("entries locked", symbol=lock.subject, protection=lock.protection,
                    until=utc_text(lock.until_ms), reason=lock.reason)  # fmt: skip
