"""The crash soak's referee: compare the bot's database with the exchange.

It reads the exchange with plain ccxt (every order through ``allOrders`` paged by order id,
every fill through ``myTrades`` paged by trade id, the raw balances) and the database with
the ``Repository``; it trusts neither the bot's memory nor its own reconciliation. It runs
after every restart and after a completed cycle (the first of each life, and the one after
an injected database failure), where it also asks whether the position held on the
exchange is covered by an open stop.
"""

from __future__ import annotations

import re
from collections import Counter
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

SYMBOL, BASE, QUOTE = "BTC/USDT", "BTC", "USDT"
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
    fills: int = 0
    trades: int = 0


@dataclass
class ExchangeView:
    """Everything the exchange says about the account."""

    orders: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    balances: dict[str, Decimal]
    min_amount: Decimal
    """The smallest amount an order may have: less than that cannot be protected (dust)."""


async def exchange_view(url: str) -> ExchangeView:
    """Read every order, every fill and the balances of the soak's account."""
    ex = sandbox_exchange(url, api_key=API_KEY, api_secret=API_SECRET)
    ex.enableRateLimit = False
    try:
        orders: list[dict[str, Any]] = []
        while True:
            next_id = int(orders[-1]["id"]) + 1 if orders else 0
            page = await ex.fetch_orders(SYMBOL, None, _PAGE, {"orderId": next_id})
            orders += page
            if len(page) < _PAGE:
                break
        trades: list[dict[str, Any]] = await ex.fetch_my_trades(SYMBOL, 0, _PAGE)
        while len(trades) % _PAGE == 0 and trades:
            page = await ex.fetch_my_trades(
                SYMBOL, None, _PAGE, {"fromId": int(trades[-1]["id"]) + 1}
            )
            trades += page
            if not page:
                break
        raw = await ex.fetch_balance()
        min_amount = Decimal(str(ex.market(SYMBOL)["limits"]["amount"]["min"]))
    finally:
        await ex.close()
    balances = {
        b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in raw["info"]["balances"]
    }
    return ExchangeView(orders, trades, balances, min_amount)


def count_duplicates(orders: list[dict[str, Any]]) -> int:
    """Orders beyond the first under one client id, or from one decision (bar and role)."""
    ids = Counter(str(o["clientOrderId"]) for o in orders)
    decisions = Counter(
        m.group(1) for o in orders if (m := _DECISION.match(str(o["clientOrderId"])))
    )
    return sum(n - 1 for n in ids.values()) + sum(n - 1 for n in decisions.values())


def _db_cash(repo: Repository) -> Decimal:
    # The cash the database implies: the starting balance plus every saved fill.
    portfolio = Portfolio.with_cash(Decimal(repo.get_control(starting_cash_key(QUOTE)) or 0))
    for fill in repo.fills(SYMBOL):
        portfolio.apply_fill(fill, BASE, QUOTE)
    return portfolio.cash


def _compare(mismatches: list[str], what: str, db: object, exchange: object) -> None:
    if db != exchange:
        mismatches.append(f"{what}: database {db}, exchange {exchange}")


async def check_state(
    url: str, db: Path, reported: dict[str, Any], saved: bool = True
) -> SoakCheck:
    """Compare the exchange with what the bot ``reported`` (its memory) and its database.

    ``saved`` = False when the bot still holds steps it could not save (an injected
    database failure, saved at its next cycle): the database is not compared then.
    """
    venue = await exchange_view(url)
    database = create_database(f"sqlite:///{db}")
    try:
        return _check(venue, Repository(database), reported, saved)
    finally:
        database.close()


def _check(
    venue: ExchangeView, repo: Repository, reported: dict[str, Any], saved: bool
) -> SoakCheck:
    venue_open = sorted(str(o["clientOrderId"]) for o in venue.orders if o["status"] == "open")
    base, cash = venue.balances.get(BASE, Decimal(0)), venue.balances.get(QUOTE, Decimal(0))
    check = SoakCheck(
        duplicates=count_duplicates(venue.orders),
        unprotected=unprotected(venue, base),
        orders=len(venue.orders),
        fills=len(venue.trades),
        trades=len(repo.trades(SYMBOL)),
    )
    _compare(check.mismatches, "bot's open orders", reported["open_orders"], venue_open)
    _compare(check.mismatches, "bot's position qty", Decimal(reported["qty"]), base)
    _compare(check.mismatches, "bot's cash", Decimal(reported["cash"]), cash)
    if not saved:
        return check
    cid_of = {str(o["id"]): str(o["clientOrderId"]) for o in venue.orders}
    venue_fills = {f"{cid_of.get(str(t['order']), '?')}/{t['id']}" for t in venue.trades}
    saved_fills = {f"{f.client_order_id}/{f.trade_id}" for f in repo.fills(SYMBOL)}
    check.lost_fills = sorted(venue_fills - saved_fills)
    positions = {p.position.symbol: p.position.qty for p in repo.positions()}
    saved_open = sorted(o.client_order_id for o in repo.open_orders(SYMBOL))
    _compare(check.mismatches, "open orders", saved_open, venue_open)
    _compare(check.mismatches, "position qty", positions.get(SYMBOL, Decimal(0)), base)
    _compare(check.mismatches, "cash", _db_cash(repo), cash)
    check.status_mismatches = status_mismatches(venue.orders, repo.orders(SYMBOL))
    return check


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


def unprotected(venue: ExchangeView, base: Decimal) -> list[str]:
    """The position held on the exchange, when its open sell stops leave a sellable part
    (at least the market's minimum amount) uncovered; empty when flat or covered."""
    stops = [
        o
        for o in venue.orders
        if o["status"] == "open" and o["side"] == "sell" and "STOP_LOSS" in str(o["info"]["type"])
    ]
    covered = sum((Decimal(str(o["remaining"])) for o in stops), Decimal(0))
    if base - covered < venue.min_amount:
        return []
    ids = ", ".join(str(o["clientOrderId"]) for o in stops) or "none"
    return [f"position {base} {BASE} held, open stops ({ids}) cover {covered}"]
