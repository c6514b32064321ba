"""The crash soak's referee: compare the bot's database with the exchange.

It reads the exchange with plain ccxt (for every symbol traded, every order through
``allOrders`` paged by order id and every fill through ``myTrades`` paged by trade id; the
raw balances) and the database with the ``Repository``; it trusts neither the bot's memory
nor its own reconciliation. It runs after every restart and after a completed cycle (the
first of each life, and the one after an injected database failure), where it also asks
whether each position held on the exchange is covered by open stops. The symbols share one
account: each symbol's base balance is its position, the quote balance is the cash of all.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from crash_driver import API_KEY, API_SECRET
from tradebot.domain.orders import Order, OrderStatus
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.orchestrator.recovery import starting_cash_key
from tradebot.state import Repository, create_database

QUOTE = "USDT"
_PAGE = 1000
_DECISION = re.compile(r"^(.+-\d+-[a-z]{2})\d*$")  # the id without its re-send counter
# Binance's order statuses as the database's (EXPIRED_IN_MATCH: self-trade prevention).
_STATUS = {
    "NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}


@dataclass
class SoakCheck:
    """What one comparison found."""

    duplicates: int = 0
    lost_fills: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    status_mismatches: list[str] = field(default_factory=list)
    """Orders whose saved status or filled amount differs from the exchange's."""
    unprotected: list[str] = field(default_factory=list)
    """A position held on the exchange that its open stops do not cover."""
    orders: int = 0
    fills: Counter[str] = field(default_factory=Counter)
    """Exchange fills by symbol."""
    trades: int = 0
    clock_ms: int = 0


@dataclass
class MarketView:
    """Everything the exchange says about one symbol of the account."""

    symbol: str
    orders: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    held: Decimal
    """The base asset's balance (free and locked): the position in this symbol."""
    min_amount: Decimal
    """The smallest amount an order may have: less than that cannot be protected (dust)."""

    @property
    def base(self) -> str:
        """The asset bought and sold (ETH of ETH/USDT)."""
        return self.symbol.split("/")[0]


@dataclass
class ExchangeView:
    """Everything the exchange says about the account."""

    markets: list[MarketView]
    cash: Decimal
    """The quote asset's balance, shared by every symbol."""
    clock_ms: int
    """The replay's clock (exchangeInfo's serverTime)."""

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Every symbol's orders."""
        return [o for m in self.markets for o in m.orders]


async def exchange_view(url: str, symbols: Sequence[str]) -> ExchangeView:
    """Read every order and every fill of each of ``symbols``, and the balances."""
    ex = sandbox_exchange(url, api_key=API_KEY, api_secret=API_SECRET)
    ex.enableRateLimit = False
    try:
        raw = await ex.fetch_balance()
        clock_ms = int((await ex.publicGetExchangeInfo())["serverTime"])
        balances = {
            b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in raw["info"]["balances"]
        }
        markets = []
        for symbol in symbols:
            orders, trades = await _orders(ex, symbol), await _trades(ex, symbol)
            held = balances.get(symbol.split("/")[0], Decimal(0))
            min_amount = Decimal(str(ex.market(symbol)["limits"]["amount"]["min"]))
            markets.append(MarketView(symbol, orders, trades, held, min_amount))
    finally:
        await ex.close()
    return ExchangeView(markets, balances.get(QUOTE, Decimal(0)), clock_ms)


async def _orders(ex: Any, symbol: str) -> list[dict[str, Any]]:
    # allOrders, paged by order id
    orders: list[dict[str, Any]] = []
    while True:
        next_id = int(orders[-1]["id"]) + 1 if orders else 0
        page = await ex.fetch_orders(symbol, None, _PAGE, {"orderId": next_id})
        orders += page
        if len(page) < _PAGE:
            return orders


async def _trades(ex: Any, symbol: str) -> list[dict[str, Any]]:
    # myTrades, paged by trade id
    trades: list[dict[str, Any]] = await ex.fetch_my_trades(symbol, 0, _PAGE)
    while len(trades) % _PAGE == 0 and trades:
        page = await ex.fetch_my_trades(symbol, None, _PAGE, {"fromId": int(trades[-1]["id"]) + 1})
        trades += page
        if not page:
            break
    return trades


def count_duplicates(orders: list[dict[str, Any]]) -> int:
    """Orders beyond the first under one client id, or from one decision (bar and role)."""
    ids = Counter(str(o["clientOrderId"]) for o in orders)
    decisions = Counter(
        m.group(1) for o in orders if (m := _DECISION.match(str(o["clientOrderId"])))
    )
    return sum(n - 1 for n in ids.values()) + sum(n - 1 for n in decisions.values())


def _db_cash(repo: Repository, symbols: Sequence[str]) -> Decimal:
    # The cash the database implies: the starting balance plus every saved fill.
    portfolio = Portfolio.with_cash(Decimal(repo.get_control(starting_cash_key(QUOTE)) or 0))
    for symbol in symbols:
        for fill in repo.fills(symbol):
            portfolio.apply_fill(fill, symbol.split("/")[0], QUOTE)
    return portfolio.cash


def _compare(mismatches: list[str], what: str, db: object, exchange: object) -> None:
    if db != exchange:
        mismatches.append(f"{what}: database {db}, exchange {exchange}")


async def check_state(
    url: str, db: Path, symbols: Sequence[str], reported: dict[str, Any], saved: bool = True
) -> SoakCheck:
    """Compare the exchange with what the bot ``reported`` (its memory) and its database,
    for every one of ``symbols``.

    ``saved`` = False when the bot still holds steps it could not save (an injected
    database failure, saved at its next cycle): the database is not compared then.
    """
    venue = await exchange_view(url, symbols)
    database = create_database(f"sqlite:///{db}")
    try:
        return _check(venue, Repository(database), reported, saved)
    finally:
        database.close()


def _check(
    venue: ExchangeView, repo: Repository, reported: dict[str, Any], saved: bool
) -> SoakCheck:
    venue_open = sorted(str(o["clientOrderId"]) for o in venue.orders if o["status"] == "open")
    check = SoakCheck(
        duplicates=count_duplicates(venue.orders),
        unprotected=[u for m in venue.markets for u in unprotected(m)],
        orders=len(venue.orders),
        fills=Counter({m.symbol: len(m.trades) for m in venue.markets}),
        trades=len(repo.trades()),
        clock_ms=venue.clock_ms,
    )
    bot_qty = {s: Decimal(q) for s, q in reported["qty"].items()}
    _compare(check.mismatches, "bot's open orders", reported["open_orders"], venue_open)
    _compare(check.mismatches, "bot's position qty", bot_qty, _held(venue))
    _compare(check.mismatches, "bot's cash", Decimal(reported["cash"]), venue.cash)
    if not saved:
        return check
    for market in venue.markets:
        check.lost_fills += lost_fills(market, repo)
        check.status_mismatches += status_mismatches(market.orders, repo.orders(market.symbol))
    held = {p.position.symbol: p.position.qty for p in repo.positions() if p.position.qty}
    saved_open = sorted(o.client_order_id for o in repo.open_orders())
    _compare(check.mismatches, "open orders", saved_open, venue_open)
    _compare(check.mismatches, "position qty", held, _held(venue))
    _compare(
        check.mismatches, "cash", _db_cash(repo, [m.symbol for m in venue.markets]), venue.cash
    )
    return check


def _held(venue: ExchangeView) -> dict[str, Decimal]:
    # Each symbol's position on the exchange (its base balance), flat ones left out.
    return {m.symbol: m.held for m in venue.markets if m.held}


def lost_fills(market: MarketView, repo: Repository) -> list[str]:
    """The symbol's exchange fills (client id / trade id) the database lacks."""
    cid_of = {str(o["id"]): str(o["clientOrderId"]) for o in market.orders}
    venue_fills = {f"{cid_of.get(str(t['order']), '?')}/{t['id']}" for t in market.trades}
    saved_fills = {f"{f.client_order_id}/{f.trade_id}" for f in repo.fills(market.symbol)}
    return sorted(venue_fills - saved_fills)


def status_mismatches(venue_orders: list[dict[str, Any]], saved: list[Order]) -> list[str]:
    """Every order (open or closed) whose saved status or filled amount is not the exchange's.

    An order the exchange never had must be saved closed with nothing filled (an intent
    that was not sent).
    """
    found: list[str] = []
    on_venue = {str(o["clientOrderId"]): o for o in venue_orders}
    for order in saved:
        venue = on_venue.pop(order.client_order_id, None)
        if venue is None:
            if not order.status.is_terminal or order.filled_qty:
                found.append(
                    f"order {order.client_order_id}: database {order.status} filled "
                    f"{order.filled_qty}, exchange never had it"
                )
            continue
        status = _STATUS[str(venue["info"]["status"])]
        filled = Decimal(str(venue["info"]["executedQty"]))
        if (order.status, order.filled_qty) != (status, filled):
            found.append(
                f"order {order.client_order_id}: database {order.status} filled "
                f"{order.filled_qty}, exchange {status} filled {filled}"
            )
    found += [f"order {cid}: on the exchange, not in the database" for cid in sorted(on_venue)]
    return found


def unprotected(market: MarketView) -> list[str]:
    """The symbol's position held on the exchange, when its open sell stops leave a sellable
    part (at least the market's minimum amount) uncovered; empty when flat or covered."""
    stops = [
        o
        for o in market.orders
        if o["status"] == "open" and o["side"] == "sell" and "STOP_LOSS" in str(o["info"]["type"])
    ]
    covered = sum((Decimal(str(o["remaining"])) for o in stops), Decimal(0))
    if market.held - covered < market.min_amount:
        return []
    ids = ", ".join(str(o["clientOrderId"]) for o in stops) or "none"
    return [f"position {market.held} {market.base} held, open stops ({ids}) cover {covered}"]
