"""Restart of a bot trading two venues: each venue is reconciled on its own, against its own
exchange. An order of this bot that the database lacks on venue B is adopted for venue B
(its row says binance_b), and venue A's account is left as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from basket_markets import write_markets
from tradebot.config import Config, load_config, with_overrides
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.exchange.venues import VenueAccount, VenueRouter
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.live import TradingBot
from tradebot.parity import QUICK_STRATEGY
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.state import Repository, create_database
from tradebot.state.tables import OrderRow, ReconciliationRow

KEY, SECRET = "venues-key", "venues-secret"
BIG = 10_000_000
VENUES = {"binance": ("BTC/USDT",), "binance_b": ("ETH/USDT",)}


def config() -> Config:
    venues = {v: {"symbols": list(s)} for v, s in VENUES.items()}
    symbols = [s for symbols in VENUES.values() for s in symbols]
    overrides = {**QUICK_STRATEGY, "exchange.venues": venues, "trading.symbols": symbols}
    return with_overrides(load_config(None), overrides, "test")


@asynccontextmanager
async def sandboxes(folder: Path) -> AsyncIterator[dict[str, SandboxServer]]:
    files = write_markets(folder, 200)
    async with AsyncExitStack() as stack:
        servers = {}
        for venue, symbols in VENUES.items():
            sandbox = SandboxConfig(
                port=0, api_key=KEY, api_secret=SECRET, data_files={s: files[s] for s in symbols},
                balances={"USDT": Decimal(5_000)}, spread_bps=Decimal(0),
                level_notional=Decimal(BIG), deterministic=True, start_index=60,
            )  # fmt: skip
            servers[venue] = await stack.enter_async_context(SandboxServer(sandbox))
        yield servers


def make_bot(servers: dict[str, SandboxServer], db: Path) -> TradingBot:
    """A bot on both venues over ``db`` (the same file each call: a restart)."""
    accounts = []
    for venue, server in servers.items():
        settings = ConnectSettings(
            venue=Venue.SANDBOX, sandbox_url=server.http_url, websockets=False,
            budget=RateBudget(weight_per_window=BIG, orders_per_window=BIG),
        )  # fmt: skip
        accounts.append(
            VenueAccount(venue, connect(settings, Credentials(KEY, SECRET)), VENUES[venue])
        )
    venue_of = {s: v for v, symbols in VENUES.items() for s in symbols}
    repo = Repository(create_database(f"sqlite:///{db}"), venues=venue_of)
    shell = BotSettings(tuple(venue_of), "1h", window_bars=60)
    return TradingBot(engine_factory(config()), VenueRouter(accounts), repo, shell)


async def place_behind_the_bots_back(server: SandboxServer, client_order_id: str) -> None:
    exchange = sandbox_exchange(server.http_url, api_key=KEY, api_secret=SECRET)
    exchange.enableRateLimit = False
    price = float(server.current_candle("ETH/USDT").open) * 0.5  # far below: it rests
    try:
        await exchange.create_order(
            "ETH/USDT", "limit", "buy", 0.5, price, {"newClientOrderId": client_order_id}
        )
    finally:
        await exchange.close()


async def test_restart_adopts_an_order_the_database_lacks_for_its_venue(tmp_path: Path) -> None:
    async with sandboxes(tmp_path) as servers:
        # Arrange: a bot trades a few bars on both venues and stops; then an order under its
        # prefix appears on venue B that its database never saw (a database restored from a
        # backup taken before it was sent), and 1,000 USDT are deposited there
        first = make_bot(servers, tmp_path / "bot.db")
        await first.start()
        for _ in range(5):
            for server in servers.values():
                await server.advance(1)
            await first.poll()
        await first.close()
        lost = "tb-ETHUSDT-1700000000000-en"
        await place_behind_the_bots_back(servers["binance_b"], lost)
        servers["binance_b"].venue.account.credit("USDT", Decimal(1_000))  # a deposit
        # Act: the bot starts again on the same database
        again = make_bot(servers, tmp_path / "bot.db")
        assert isinstance(again.connector, VenueRouter)
        accounts = again.connector.accounts
        try:
            recovery = await again.start()
            adopted = [o.client_order_id for o in again.engine.view.open_orders("ETH/USDT")]
            on_a = again.engine.view.open_orders("BTC/USDT")
            held = {a.id: (await a.connector.fetch_balance())["USDT"].total for a in accounts}
            booked = dict(again.engine.portfolio.venue_cash)
        finally:
            await again.close()
    # Assert: adopted for venue B, in the engine and in the database; nothing on venue A;
    # each venue's cash booked as its exchange holds it, B's deposit added to its start
    assert [o.client_order_id for o in recovery.reconciliation.orders_to_record] == [lost]
    assert lost in adopted
    assert on_a == []
    with create_database(f"sqlite:///{tmp_path / 'bot.db'}").engine.connect() as conn:
        venue = conn.execute(
            select(OrderRow.venue).where(OrderRow.client_order_id == lost)
        ).scalar_one()
        found = conn.execute(select(ReconciliationRow.subject_id)).scalars().all()
    repo = Repository(create_database(f"sqlite:///{tmp_path / 'bot.db'}"))
    starts = {v: Decimal(repo.get_control(f"starting_cash:USDT:{v}") or "") for v in VENUES}
    assert venue == "binance_b"
    assert sorted(found) == sorted([lost, "USDT"])
    assert starts == {"binance": 5_000, "binance_b": 6_000}, "the deposit, not the trades"
    assert booked == held, "each venue's cash is its own exchange's balance"
    assert held["binance"] != held["binance_b"]
