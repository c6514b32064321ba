"""Start-up recovery: rebuild the engine from saved state, then make it agree with the venue.

The exchange is the source of truth. Saved fills are replayed into a fresh portfolio through
the engine's door (so positions, cost, PnL and fees are exactly what was booked); saved open
orders are looked up by client id; fills the venue has and the database lacks are booked;
balances are compared, and a difference is booked with its ledger entry.
Every difference is recorded as a reconciliation event and logged; one that cannot be
fixed safely halts trading until a person looks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import structlog

from tradebot.domain.commands import Command
from tradebot.domain.errors import OrderNotFound
from tradebot.domain.events import CashReconciled, Event, PositionReconciled, StateRestored
from tradebot.domain.market import Market
from tradebot.domain.orders import ClientOrderId, Fill, Order, OrderStatus
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.port import ExchangeConnector
from tradebot.exchange.venues import VenueAccount, accounts_of
from tradebot.execution.lifecycle import fill_events, report_events
from tradebot.execution.router import OrderRole, role_of
from tradebot.orchestrator.engine import TradingEngine
from tradebot.orchestrator.journal import StepWriter
from tradebot.orchestrator.settings import ATR_COLUMN
from tradebot.orchestrator.trade_feed import fills_since
from tradebot.state.control import KillSwitchLevel
from tradebot.state.reconcile import (
    ExchangeState,
    LocalState,
    ReconcileRules,
    Reconciliation,
    reconcile,
)
from tradebot.state.repository import Repository

log = structlog.get_logger("tradebot.recovery")
_FILL_PAGE = 1000
EngineFactory = Callable[[Sequence[Market], Portfolio], TradingEngine]
"""How a shell builds its engine: the markets it trades (the first first) on a portfolio."""


def starting_cash_key(quote: str, venue: str | None = None) -> str:
    """Control key of the quote balance the bot started its ledger with (``venue``'s, of a
    portfolio spanning several venues)."""
    return f"starting_cash:{quote}" if venue is None else f"starting_cash:{quote}:{venue}"


@dataclass(frozen=True, slots=True)
class Recovery:
    """The restored engine, what reconciliation found, and orders it must send now."""

    engine: TradingEngine
    reconciliation: Reconciliation
    fills: list[Fill]
    commands: list[Command]


async def restore_engine(
    build: EngineFactory,
    markets: Sequence[Market],
    connector: ExchangeConnector,
    repo: Repository,
) -> Recovery:
    """Rebuild the engine for ``markets`` from saved state, then reconcile it with the venue.

    Start-up and crash recovery are one path: the saved orders and fills are replayed
    through the engine's door (``StateRestored``, one per symbol), then what the venue says
    differs comes in as the same events live trading uses (its reports of orders, the fills
    the database lacks, ``PositionReconciled``, ``CashReconciled``), each step saved as the
    live shell saves it. The symbols of one venue share its wallet, so each venue's account
    is reconciled once, against that venue alone (``VenueRouter``: several venues).
    """
    quote = markets[0].quote
    accounts = accounts_of(connector, [m.symbol for m in markets])
    cash = {a.id or "": await _starting_cash(a, quote, repo) for a in accounts}
    venue_of = {s: a.id or "" for a in accounts for s in a.symbols}
    engine = build(markets, Portfolio.with_venues(cash, venue_of))
    fills: list[Fill] = []
    saved_open: list[Order] = []
    for market in markets:
        symbol = market.symbol
        own_fills, own_open = repo.fills(symbol), repo.open_orders(symbol)
        open_ids = {o.client_order_id for o in own_open}
        closed = frozenset(cid for cid in repo.client_order_ids(symbol) if cid not in open_ids)
        atrs = _entry_atrs(repo, own_open)
        engine.handle(StateRestored(symbol, tuple(own_open), tuple(own_fills), closed, atrs))
        fills += own_fills
        saved_open += own_open
    results = [await _reconcile_account(engine, a, repo, saved_open, fills) for a in accounts]
    commands = [c for _, found in results for c in found]
    reconciliation = _joined([r for r, _ in results])
    if reconciliation.must_halt:
        repo.set_kill_switch(
            KillSwitchLevel.HALTED,
            "reconciliation found a difference that needs a person; see the reconciliation events",
        )
    return Recovery(engine, reconciliation, fills + list(reconciliation.fills_to_record), commands)


def _entry_atrs(
    repo: Repository, saved_open: Sequence[Order]
) -> tuple[tuple[ClientOrderId, float | None], ...]:
    """The ATR each working entry was decided with, read from its decision in the log.

    The engine keeps it in memory from the decision to the fill, where it sets the stop; an
    entry that fills while the bot is away is protected from it at start. An entry placed
    again after its timeout finds the ATR of the bar that placed it again.
    """
    found: list[tuple[ClientOrderId, float | None]] = []
    for order in saved_open:
        if role_of(order.client_order_id) is not OrderRole.ENTRY:
            continue
        for logged in repo.decisions_at(order.created_ts_ms, order.symbol):
            decision = logged.decision
            if order.client_order_id in decision.client_order_ids:
                atr = decision.indicators.get(ATR_COLUMN)
                found.append(
                    (order.client_order_id, atr if atr is not None and atr == atr else None)
                )
    return tuple(found)


async def _starting_cash(account: VenueAccount, quote: str, repo: Repository) -> Decimal:
    # The account's quote balance when the bot first started on it, kept as a control.
    key = starting_cash_key(quote, account.id)
    saved = repo.get_control(key)
    if saved is not None:
        return Decimal(saved)
    held = (await account.connector.fetch_balance()).get(quote)
    start = held.total if held is not None else Decimal(0)
    repo.set_control(key, str(start))
    return start


async def _reconcile_account(
    engine: TradingEngine,
    account: VenueAccount,
    repo: Repository,
    saved_open: Sequence[Order],
    saved_fills: Sequence[Fill],
) -> tuple[Reconciliation, list[Command]]:
    """Reconcile one venue's account (its symbols' orders, fills and positions, its cash)
    with that venue, the source of truth for them; hand what differs to the engine."""
    mine = set(account.symbols)
    orders = [o for o in saved_open if o.symbol in mine]
    fills = [f for f in saved_fills if f.symbol in mine]
    markets = [engine.market_of(s) for s in account.symbols]
    venue = await _venue_state(account.connector, markets, orders, fills)
    portfolio = engine.portfolio
    local = LocalState(
        orders=orders,
        fills=fills,
        positions=[p for s, p in portfolio.positions.items() if s in mine],
        cash=portfolio.cash_for(account.symbols[0]),
        quote=markets[0].quote,
    )
    now_ms = await account.connector.fetch_time()
    rules = ReconcileRules(client_id_prefix=f"{engine.settings.id_prefix}-")
    result = reconcile(local, venue, now_ms, rules)
    for discrepancy in result.discrepancies:
        repo.record_reconciliation(discrepancy, now_ms)
        log.warning("reconciliation", discrepancy=str(discrepancy), venue=account.id)
    return result, _follow_venue(engine, repo, result, now_ms, account)


def _joined(results: Sequence[Reconciliation]) -> Reconciliation:
    """The venues' reconciliations as one (what each found, in venue order)."""
    if len(results) == 1:
        return results[0]
    return Reconciliation(
        discrepancies=tuple(d for r in results for d in r.discrepancies),
        fills_to_record=tuple(f for r in results for f in r.fills_to_record),
        orders_to_record=tuple(o for r in results for o in r.orders_to_record),
        order_updates=tuple(o for r in results for o in r.order_updates),
        position_qty={s: q for r in results for s, q in r.position_qty.items()},
        cash=None,
    )


def _follow_venue(
    engine: TradingEngine,
    repo: Repository,
    result: Reconciliation,
    now_ms: int,
    account: VenueAccount,
) -> list[Command]:
    """Hand the venue's word to the engine as events; save each step; collect commands."""
    writer = StepWriter(repo, lambda s: (engine.view.position(s), engine.view.protection_of(s)))
    unknown = [_as_sent(o) for o in result.orders_to_record]
    for order in unknown:
        repo.record_order_intent(order, None)
    for symbol in account.symbols:
        own = tuple(o for o in unknown if o.symbol == symbol)
        if own:
            engine.handle(StateRestored(symbol, own, ()))
    # The fills first, then each order's word: a status handed over before the fills it
    # closed on would reach the engine as an order that filled nothing (an entry bought in
    # part and expired while the bot was away would wait for the first cycle's protection).
    events: list[Event] = fill_events(result.fills_to_record)
    for order in [*result.order_updates, *result.orders_to_record]:
        events += report_events(order)
    adopted = {s: q for s, q in result.position_qty.items() if s in account.symbols}
    events += [
        PositionReconciled(symbol, qty, now_ms, "venue holds a different amount")
        for symbol, qty in adopted.items()
    ]
    held = engine.portfolio.cash_for(account.symbols[0])
    if result.cash is not None and result.cash != held:
        reason = "venue holds a different balance"
        events.append(CashReconciled(result.cash, reason, _venue_id(engine, account)))
    commands = _saved_steps(engine, writer, events)
    for symbol in adopted:
        position = engine.view.position(symbol)
        if position is not None:
            with repo.transaction() as tx:
                tx.save_position(position)
    if result.cash is not None:
        portfolio, quote = engine.portfolio, engine.market.quote
        venue = _venue_id(engine, account)
        start = portfolio.starting_cash if venue is None else portfolio.venue_starting_cash[venue]
        repo.set_control(starting_cash_key(quote, account.id), str(start))
    return commands


def _venue_id(engine: TradingEngine, account: VenueAccount) -> str | None:
    # The key of the account's cash in the portfolio: None when it is the only account.
    return account.id if account.id in engine.portfolio.venue_cash else None


def _saved_steps(engine: TradingEngine, writer: StepWriter, events: list[Event]) -> list[Command]:
    """Hand ``events`` to the engine, save each step, return the commands they call for."""
    commands: list[Command] = []
    for event in events:
        step = engine.handle(event)
        if step.is_empty:
            continue
        writer.save(step)
        commands.extend(step.commands)
    return commands


def _as_sent(order: Order) -> Order:
    """A venue's order as it was when sent: the fills and status come after, as events."""
    return replace(
        order,
        status=OrderStatus.SUBMITTING,
        filled_qty=Decimal(0),
        avg_fill_price=None,
        fills=[],
    )


async def _venue_state(
    connector: ExchangeConnector,
    markets: Sequence[Market],
    saved_open: list[Order],
    fills: list[Fill],
) -> ExchangeState:
    looked_up: dict[str, Order] = {}
    for order in saved_open:
        try:
            looked_up[order.client_order_id] = await connector.fetch_order(
                order.client_order_id, order.symbol
            )
        except OrderNotFound:
            continue
    venue_fills: list[Fill] = []
    open_orders: list[Order] = []
    for market in markets:
        symbol = market.symbol
        since = min((f.ts_ms for f in fills if f.symbol == symbol), default=None)
        venue_fills += await fills_since(connector, symbol, since, _FILL_PAGE)
        open_orders += await connector.fetch_open_orders(symbol)
    balances = await connector.fetch_balance()
    return ExchangeState(
        orders=looked_up,
        open_orders=open_orders,
        fills=sorted(venue_fills, key=lambda f: f.ts_ms),
        balances={asset: b.total for asset, b in balances.items()},
    )
