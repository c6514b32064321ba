"""Rebuild the bot's state from the venue; refuse to start blind on an account with history.

A bot whose database was lost (a zero-byte file, a new disk) but whose account it has traded
used to write a new schema, meet a fill of an order it never saved, and stop for good. Now a
start on an empty database first asks the venue whether this bot (its client-id prefix) has
open orders or fills there, and refuses if so. ``rebuild_state`` (``tradebot state
rebuild``) then reads what the venue knows into the empty database: the bot's open orders,
its recent fills and the orders they belong to, the position they leave and the quote
balance. It only reads from the venue; nothing is sent, placed or canceled.

How far back: the venue's most recent fills (one page), from the earliest point at which
the bot held nothing. Walking back from today's base balance through the bot's fills finds
that point, so the rebuilt position equals the balance and the first reconciliation agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradebot.domain.errors import StateError
from tradebot.domain.events import StateRestored
from tradebot.domain.orders import Fill, Order, OrderSide
from tradebot.domain.portfolio import Portfolio, Trade
from tradebot.exchange.port import ExchangeConnector
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.recovery import EngineFactory, starting_cash_key
from tradebot.state.inspection import Inspection
from tradebot.state.repository import Repository

FILL_PAGE = 1000
"""Fills read from the venue: its most recent page (Binance serves up to 1000)."""


@dataclass(frozen=True, slots=True)
class VenueHistory:
    """The bot's own orders and fills on the venue (client ids with its prefix)."""

    open_orders: list[Order]
    fills: list[Fill]

    @property
    def is_empty(self) -> bool:
        """Nothing of this bot on the account: a new database is a fresh start."""
        return not self.open_orders and not self.fills


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What ``rebuild_state`` wrote."""

    orders: int
    open_orders: int
    fills: int
    trades: int
    positions: dict[str, Decimal]
    """Each symbol's amount held, as rebuilt."""
    starting_cash: Decimal
    quote: str


async def bot_history(
    build: EngineFactory,
    connector: ExchangeConnector,
    symbols: Sequence[str],
    limit: int = FILL_PAGE,
) -> tuple[TradingEngine, VenueHistory]:
    """A fresh engine for ``symbols`` and the bot's open orders and recent fills (one page
    per symbol) on the venue."""
    markets = await connector.load_markets()
    engine = build([markets[s] for s in symbols], Portfolio.with_cash(Decimal(0)))
    prefix = f"{engine.settings.id_prefix}-"
    open_orders: list[Order] = []
    fills: list[Fill] = []
    for symbol in symbols:
        open_orders += await connector.fetch_open_orders(symbol)
        fills += await connector.fetch_my_trades(symbol, since_ms=None, limit=limit)
    return engine, VenueHistory(
        open_orders=[o for o in open_orders if o.client_order_id.startswith(prefix)],
        fills=[f for f in fills if f.client_order_id.startswith(prefix)],
    )


async def refuse_blind_start(
    build: EngineFactory, connector: ExchangeConnector, symbols: Sequence[str], saved: Inspection
) -> None:
    """Refuse to trade on an empty database when the venue shows this bot's history.

    Raises:
        StateError: the database is empty but the account has the bot's orders or fills;
            the message names the database and the command that rebuilds it.
    """
    if not saved.is_empty:
        return
    _, history = await bot_history(build, connector, symbols)
    if history.is_empty:
        return
    raise StateError(
        f"the database {saved.location} holds no orders or fills, but the exchange account "
        f"has this bot's history on {', '.join(symbols)}: {len(history.open_orders)} open "
        f"orders and {len(history.fills)} recent fills. Starting blind would trade against "
        "positions and orders it does not know. If the database was lost, run `tradebot "
        "state rebuild` with the same --config/--db (it reads the venue and sends nothing), "
        "then start again; if this is the wrong file, point --db at the bot's database"
    )


async def rebuild_state(
    build: EngineFactory, connector: ExchangeConnector, repo: Repository, symbols: Sequence[str]
) -> Rebuilt:
    """Write the bot's state as the venue shows it into the empty database behind ``repo``.

    Raises:
        StateError: the database already holds orders or fills, or the venue's recent
            fills never show the bot flat in a symbol (its history is longer than a page).
    """
    if any(repo.orders(s) or repo.fills(s) for s in symbols):
        raise StateError(
            "the database already holds orders or fills: rebuild writes only into an empty "
            "one. Move this file aside (keep it) and rebuild into a new --db"
        )
    engine, history = await bot_history(build, connector, symbols)
    balances = await connector.fetch_balance()
    orders = {o.client_order_id: o for o in history.open_orders}
    fills: list[Fill] = []
    for symbol in symbols:
        base = engine.market_of(symbol).base
        held = balances[base].total if base in balances else Decimal(0)
        own = [f for f in history.fills if f.symbol == symbol]
        kept = fills_since_flat(own, held, engine.view.dust_qty(symbol), base)
        for cid in dict.fromkeys(f.client_order_id for f in kept):
            if cid not in orders:
                orders[cid] = await connector.fetch_order(cid, symbol)
        fills += kept
        # through the engine's door, as a restart replays saved state
        working = tuple(o for o in history.open_orders if o.symbol == symbol)
        engine.handle(StateRestored(symbol, working, tuple(kept)))
    trades = list(engine.trades)
    quote_asset = engine.market.quote
    quote = balances[quote_asset].total if quote_asset in balances else Decimal(0)
    start = quote - engine.portfolio.cash  # what the ledger started from, fills replayed
    _write(repo, engine, list(orders.values()), fills, trades, start)
    return Rebuilt(
        orders=len(orders),
        open_orders=len(history.open_orders),
        fills=len(fills),
        trades=len(trades),
        positions={s: engine.view.held_qty(s) for s in symbols},
        starting_cash=start,
        quote=quote_asset,
    )


def fills_since_flat(fills: list[Fill], held: Decimal, dust: Decimal, base: str) -> list[Fill]:
    """The fills from the earliest point at which the bot held nothing (within ``dust``).

    Walking back from today's holding ``held`` through the fills finds that point, so a
    replay of what is returned never sells what it lacks and ends holding ``held``.

    Raises:
        StateError: no such point among ``fills`` (the position began before them).
    """
    ordered = sorted(fills, key=lambda f: f.ts_ms)
    qty, start = held, None
    if qty <= dust:
        start = len(ordered)
    for i in range(len(ordered) - 1, -1, -1):
        qty -= _signed_qty(ordered[i], base)
        if abs(qty) <= dust:
            start = i
    if start is None:
        raise StateError(
            f"the venue's last {FILL_PAGE} fills never show the bot without a position "
            f"({held} {base} held now): rebuild cannot tell where its position began. "
            "Restore the database from a backup instead"
        )
    return ordered[start:]


def _signed_qty(fill: Fill, base: str) -> Decimal:
    if fill.side is OrderSide.SELL:
        return -fill.qty
    return fill.qty - (fill.fee if fill.fee_asset == base else Decimal(0))


def _write(
    repo: Repository,
    engine: TradingEngine,
    orders: list[Order],
    fills: list[Fill],
    trades: list[Trade],
    start: Decimal,
) -> None:
    with repo.transaction() as tx:  # all of it or nothing
        for order in sorted(orders, key=lambda o: o.created_ts_ms):
            tx.record_order_intent(order, None)
        for fill in sorted(fills, key=lambda f: f.ts_ms):
            tx.record_fill(fill)
        for trade in trades:
            tx.record_trade(trade)
        for symbol in engine.symbols:
            position = engine.view.position(symbol)
            guard = engine.view.protection_of(symbol)
            if position is not None:
                stop, target = (
                    (guard.stop_price, guard.take_profit_price) if guard else (None, None)
                )
                tx.save_position(position, stop, target)
        tx.set_control(starting_cash_key(engine.market.quote), str(start))
