"""The tables ``tradebot run --replay`` and ``tradebot status`` print.

Kept apart from ``run.py`` so the command module stays about wiring; both read only the
bot's repository and engine, never the exchange.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rich.table import Table

from tradebot.backtest.markets import backtest_market
from tradebot.config import Config
from tradebot.orchestrator.continuity import FLATTEN_REQUEST
from tradebot.orchestrator.live import TradingBot
from tradebot.state import Repository


def summary_table(bot: TradingBot, bars: int) -> Table:
    """What a replay did, over every symbol traded: bars, trades, equity, fills, orders and
    discrepancies."""
    repo, engine = bot.repo, bot.engine
    snapshot = repo.latest_snapshot()
    table = Table(title=f"paper replay ({engine.settings.timeframe})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("markets", ", ".join(engine.symbols)),
        ("bars replayed", f"{bars:,}"),
        ("cycles", f"{bot.stats.cycles:,}"),
        ("trades", str(len(repo.trades()))),
        ("realised PnL", f"{sum((t.pnl for t in engine.trades), Decimal(0)):.2f}"),
        ("equity", "-" if snapshot is None else f"{snapshot.equity:.2f}"),
        ("cash", f"{engine.portfolio.cash:.2f}"),
        ("fills", str(len(repo.fills()))),
        ("orders", str(len(repo.orders()))),
        ("open orders", str(len(repo.open_orders()))),
        ("discrepancies", str(len(repo.reconciliation_events()))),
        ("errors", str(bot.stats.errors)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def status_table(repo: Repository, config: Config) -> Table:
    """The bot's saved state: kill switch, open orders, and each traded symbol's last bar and
    position, then the last snapshot (one account across every symbol)."""
    symbols, timeframe = config.trading.all_symbols, config.trading.timeframe
    table = Table(title=f"tradebot status ({', '.join(symbols)} {timeframe})")
    table.add_column("item")
    table.add_column("value")
    reason = repo.kill_switch_reason()
    table.add_row("kill switch", f"{repo.kill_switch()}" + (f" ({reason})" if reason else ""))
    table.add_row("flatten requested", "yes" if repo.get_control(FLATTEN_REQUEST) == "1" else "no")
    # One symbol keeps today's short names; several name each row by its symbol.
    named = len(symbols) > 1
    for symbol in symbols:
        prefix = f"{symbol} " if named else ""
        last_bar = repo.last_bar_ts(symbol, timeframe)
        table.add_row(f"{prefix}last bar", "none yet" if last_bar is None else _utc(last_bar))
    orders = [order for order in repo.open_orders() if order.symbol in symbols]
    table.add_row("open orders", str(len(orders)))
    for order in orders:
        price = order.stop_price or order.price
        table.add_row(
            f"  {order.client_order_id}",
            f"{order.side} {order.type} {order.qty} {order.symbol} @ {price} ({order.status})",
        )
    for symbol in symbols:
        prefix = f"{symbol} " if named else ""
        table.add_row(f"{prefix}position", position_text(repo, symbol))
    snapshot = repo.latest_snapshot()
    if snapshot is None:
        table.add_row("last snapshot", "none yet")
    else:
        table.add_row(
            "last snapshot",
            f"{_utc(snapshot.ts_ms)}: equity {snapshot.equity:.2f}, cash {snapshot.cash:.2f}",
        )
    return table


def position_text(repo: Repository, symbol: str) -> str:
    """The saved position in words; fee dust below the market's minimum amount is flat.

    A round trip leaves the rounding of the buy's fee behind (Binance charges it in the base
    asset); that dust cannot be sold, needs no stop, and is not a position to a trader.
    """
    positions = [p for p in repo.positions(open_only=True) if p.position.symbol == symbol]
    if not positions:
        return "flat"
    saved = positions[0]
    position = saved.position
    min_qty = backtest_market(symbol).min_qty
    if position.qty < min_qty:
        return f"flat (dust {position.qty} {position.base}, below the minimum amount {min_qty})"
    stop = "no stop" if saved.stop_price is None else f"stop {saved.stop_price}"
    return f"{position.qty} {symbol} @ {position.avg_price:.2f}, {stop}"


def _utc(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
