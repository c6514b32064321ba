"""The crash soak's referee: compare the bot's database with the exchange after a restart.

It reads the exchange with plain ccxt (every order through ``allOrders`` paged by order id,
every fill through ``myTrades`` paged by trade id, the raw balances) and the database with
the ``Repository``; it trusts neither the bot's memory nor its own reconciliation.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from crash_driver import API_KEY, API_SECRET
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.orchestrator.recovery import starting_cash_key
from tradebot.state import Repository, create_database

SYMBOL, BASE, QUOTE = "BTC/USDT", "BTC", "USDT"
_PAGE = 1000
_DECISION = re.compile(r"^(.+-\d+-[a-z]{2})\d*$")  # the id without its re-send counter


@dataclass
class SoakCheck:
    """What one comparison found."""

    duplicates: int = 0
    lost_fills: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    orders: int = 0
    fills: int = 0
    trades: int = 0


@dataclass
class ExchangeView:
    """Everything the exchange says about the account."""

    orders: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    balances: dict[str, Decimal]


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
    finally:
        await ex.close()
    balances = {
        b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in raw["info"]["balances"]
    }
    return ExchangeView(orders, trades, balances)


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


async def check_state(url: str, db: Path, started: dict[str, Any]) -> SoakCheck:
    """Compare the database (and what the restarted bot reported) with the exchange."""
    venue = await exchange_view(url)
    database = create_database(f"sqlite:///{db}")
    try:
        return _check(venue, Repository(database), started)
    finally:
        database.close()


def _check(venue: ExchangeView, repo: Repository, started: dict[str, Any]) -> SoakCheck:
    cid_of = {str(o["id"]): str(o["clientOrderId"]) for o in venue.orders}
    venue_fills = {f"{cid_of.get(str(t['order']), '?')}/{t['id']}" for t in venue.trades}
    saved_fills = {f"{f.client_order_id}/{f.trade_id}" for f in repo.fills(SYMBOL)}
    venue_open = sorted(str(o["clientOrderId"]) for o in venue.orders if o["status"] == "open")
    saved = {p.position.symbol: p.position.qty for p in repo.positions()}
    base, cash = venue.balances.get(BASE, Decimal(0)), venue.balances.get(QUOTE, Decimal(0))
    check = SoakCheck(
        duplicates=count_duplicates(venue.orders),
        lost_fills=sorted(venue_fills - saved_fills),
        orders=len(venue.orders),
        fills=len(venue.trades),
        trades=len(repo.trades(SYMBOL)),
    )
    saved_open = sorted(o.client_order_id for o in repo.open_orders(SYMBOL))
    _compare(check.mismatches, "open orders", saved_open, venue_open)
    _compare(check.mismatches, "bot's open orders", started["open_orders"], venue_open)
    _compare(check.mismatches, "position qty", saved.get(SYMBOL, Decimal(0)), base)
    _compare(check.mismatches, "bot's position qty", Decimal(started["qty"]), base)
    _compare(check.mismatches, "cash", _db_cash(repo), cash)
    _compare(check.mismatches, "bot's cash", Decimal(started["cash"]), cash)
    return check
