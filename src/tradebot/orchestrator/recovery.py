"""Start-up recovery: rebuild the engine from saved state, then make it agree with the venue.

The exchange is the source of truth. Saved fills are replayed into a fresh portfolio (so
positions, cost, PnL and fees are exactly what was booked); saved open orders are looked up
by client id; fills the venue has and the database lacks are booked; balances are compared.
Every difference is recorded as a reconciliation event and logged; one that cannot be
fixed safely halts trading until a person looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import structlog

from tradebot.data.frame import candles_to_frame
from tradebot.domain.commands import CancelOrder, Command
from tradebot.domain.errors import OrderNotFound
from tradebot.domain.market import Market
from tradebot.domain.orders import Fill, Order
from tradebot.domain.portfolio import Portfolio, Position
from tradebot.exchange.port import ExchangeConnector
from tradebot.execution.positions import Protection
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.settings import ATR_COLUMN
from tradebot.state.control import KillSwitchLevel
from tradebot.state.reconcile import (
    ExchangeState,
    LocalState,
    ReconcileRules,
    Reconciliation,
    fill_key,
    reconcile,
)
from tradebot.state.repository import Repository
from tradebot.state.transaction import StateTransaction

log = structlog.get_logger("tradebot.recovery")
_FILL_PAGE = 1000


def starting_cash_key(quote: str) -> str:
    """Control key of the quote balance the bot started its ledger with."""
    return f"starting_cash:{quote}"


@dataclass(frozen=True, slots=True)
class Recovery:
    """The restored engine, what reconciliation found, and orders it must send now."""

    engine: TradingEngine
    reconciliation: Reconciliation
    fills: list[Fill]
    commands: list[Command]


async def restore_engine(
    build: Callable[[Market, Portfolio], TradingEngine],
    market: Market,
    connector: ExchangeConnector,
    repo: Repository,
) -> Recovery:
    """Rebuild the engine for ``market`` and reconcile it with the venue."""
    balances = await connector.fetch_balance()
    saved_cash = repo.get_control(starting_cash_key(market.quote))
    if saved_cash is None:
        quote = balances.get(market.quote)
        start = quote.total if quote is not None else Decimal(0)
        repo.set_control(starting_cash_key(market.quote), str(start))
    else:
        start = Decimal(saved_cash)
    engine = build(market, Portfolio.with_cash(start))
    fills = repo.fills(market.symbol)
    for fill in fills:
        engine.positions.on_fill(fill)
    saved_open = repo.open_orders(market.symbol)
    venue = await _venue_state(connector, market, saved_open, fills)
    local = LocalState(
        orders=saved_open,
        fills=fills,
        positions=_positions(engine),
        cash=engine.portfolio.cash,
        quote=market.quote,
    )
    now_ms = await connector.fetch_time()
    rules = ReconcileRules(client_id_prefix=f"{engine.settings.id_prefix}-")
    result = reconcile(local, venue, now_ms, rules)
    _adopt_orders(engine, repo, saved_open, result)
    _apply(result, engine, repo, market, now_ms)
    _restore_protection(engine)
    commands = _orphan_cancels(engine) or engine.protect_position(
        now_ms, await _latest_atr(engine, connector)
    )
    return Recovery(engine, result, fills + list(result.fills_to_record), commands)


async def _venue_state(
    connector: ExchangeConnector, market: Market, saved_open: list[Order], fills: list[Fill]
) -> ExchangeState:
    looked_up: dict[str, Order] = {}
    for order in saved_open:
        try:
            looked_up[order.client_order_id] = await connector.fetch_order(
                order.client_order_id, market.symbol
            )
        except OrderNotFound:
            continue
    since = min((f.ts_ms for f in fills), default=None)
    venue_fills = await _venue_fills(connector, market.symbol, since)
    balances = await connector.fetch_balance()
    return ExchangeState(
        orders=looked_up,
        open_orders=await connector.fetch_open_orders(market.symbol),
        fills=venue_fills,
        balances={asset: b.total for asset, b in balances.items()},
    )


async def _venue_fills(
    connector: ExchangeConnector, symbol: str, since_ms: int | None
) -> list[Fill]:
    # Every fill since the first saved one, page by page: one page of a long-running bot's
    # history would leave its later saved fills "unknown to the exchange", and halt it.
    found: dict[str, Fill] = {}
    while True:
        page = await connector.fetch_my_trades(symbol, since_ms=since_ms, limit=_FILL_PAGE)
        fresh = [f for f in page if _fill_id(f) not in found]
        found.update((_fill_id(f), f) for f in fresh)
        if len(page) < _FILL_PAGE or not fresh:
            return sorted(found.values(), key=lambda f: f.ts_ms)
        since_ms = max(f.ts_ms for f in page)  # inclusive: fills sharing that ms come again


def _fill_id(fill: Fill) -> str:
    return f"{fill.client_order_id}/{fill_key(fill)}"


def _positions(engine: TradingEngine) -> list[Position]:
    return list(engine.portfolio.positions.values())


def _adopt_orders(
    engine: TradingEngine, repo: Repository, saved_open: list[Order], result: Reconciliation
) -> None:
    # Each saved order enters the router once, as reconciliation left it: adopting the saved
    # (open) copy first and the venue's terminal version after would leave the order in the
    # router's open book, and the bot would wait forever on an order that is long done.
    updated = {o.client_order_id: o for o in result.order_updates}
    for order in result.order_updates:
        repo.update_order(order)
    for order in saved_open:
        engine.router.adopt(updated.get(order.client_order_id, order))
    for order in result.orders_to_record:
        repo.record_order_intent(order, None)
        engine.router.adopt(order)


def _apply(
    result: Reconciliation, engine: TradingEngine, repo: Repository, market: Market, now_ms: int
) -> None:
    for discrepancy in result.discrepancies:
        repo.record_reconciliation(discrepancy, now_ms)
        log.warning("reconciliation", discrepancy=str(discrepancy))
    for fill in sorted(result.fills_to_record, key=lambda f: f.ts_ms):
        # A fill the crash kept from its record is booked as the live path books one: the
        # fill, the position it leaves and the trade it closes, in one transaction.
        trade = engine.positions.on_fill(fill)
        with repo.transaction() as tx:
            tx.record_fill(fill)
            _save_position(tx, engine, market.symbol)
            if trade is not None:
                tx.record_trade(trade)
    portfolio = engine.portfolio
    if result.cash is not None and result.cash != portfolio.cash:
        delta = result.cash - portfolio.cash  # the venue wins; the ledger notes the change
        portfolio.cash += delta
        portfolio.starting_cash += delta
        repo.set_control(starting_cash_key(market.quote), str(portfolio.starting_cash))
    pos = portfolio.position(market.symbol)
    venue_qty = result.position_qty.get(market.symbol)
    if pos is not None and venue_qty is not None and venue_qty != pos.qty:
        avg = pos.avg_price
        pos.qty, pos.cost = venue_qty, venue_qty * avg
        with repo.transaction() as tx:
            _save_position(tx, engine, market.symbol)
    if result.must_halt:
        repo.set_kill_switch(
            KillSwitchLevel.HALTED,
            "reconciliation found a difference that needs a person; see the reconciliation events",
        )


def _save_position(tx: StateTransaction, engine: TradingEngine, symbol: str) -> None:
    position = engine.positions.position(symbol)
    if position is None:
        return
    protection = engine.positions.protection_of(symbol)
    stop = protection.stop_price if protection else None
    target = protection.take_profit_price if protection else None
    tx.save_position(position, stop, target)


def _orphan_cancels(engine: TradingEngine) -> list[Command]:
    # A stop or target left working while flat (its exit filled, then the crash came before
    # the cancel) would sell what the bot no longer holds: cancel it before trading resumes.
    if not engine.positions.is_flat(engine.symbol):
        return []
    return [
        CancelOrder(o.client_order_id, o.symbol, "position already closed")
        for o in engine.router.open_orders(engine.symbol)
        if engine.positions.is_protective(o.client_order_id)
    ]


def _restore_protection(engine: TradingEngine) -> None:
    protection = Protection()
    for order in engine.router.open_orders(engine.symbol):
        role = role_of(order.client_order_id)
        if role is OrderRole.STOP_LOSS:
            protection.stop_order_id, protection.stop_price = (
                order.client_order_id,
                (order.stop_price),
            )
        elif role is OrderRole.TAKE_PROFIT:
            protection.take_profit_order_id = order.client_order_id
            protection.take_profit_price = order.price
    if protection.stop_order_id or protection.take_profit_order_id:
        engine.positions.protect(engine.symbol, protection)


async def _latest_atr(engine: TradingEngine, connector: ExchangeConnector) -> float | None:
    if engine.positions.is_flat(engine.symbol):
        return None
    candles = await connector.fetch_ohlcv(engine.symbol, engine.settings.timeframe, limit=200)
    if len(candles) < engine.settings.atr_period + 1:
        return None
    frame = candles_to_frame(candles)
    value = float(engine.prepare(frame)[ATR_COLUMN][-1])
    return value if value == value else None
