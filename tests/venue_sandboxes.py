"""Two sandboxes standing for two exchange accounts (venue ids ``binance`` and ``binance_b``),
each replaying its own markets from the basket files, moved bar by bar by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from pathlib import Path

from basket_markets import write_markets
from tradebot.exchange.ccxt.sandbox_client import sandbox_exchange
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.state import Repository

BIG = 10_000_000
VENUES = {"binance": ("BTC/USDT",), "binance_b": ("ETH/USDT", "SOL/USDT")}
"""Each venue's markets."""
VENUES_YAML = """\
  venues:
    binance: {{sandbox: {{embedded: false, port: {binance}}}, symbols: [BTC/USDT]}}
    binance_b: {{sandbox: {{embedded: false, port: {binance_b}}}, symbols: [ETH/USDT, SOL/USDT]}}
"""
"""``exchange.venues`` for ``str.format`` with each venue's port."""
START = 68
"""The bar the sandboxes start at: each venue trades within the next few bars."""


@asynccontextmanager
async def venue_sandboxes(
    folder: Path, cash: Decimal = Decimal(5_000)
) -> AsyncIterator[dict[str, SandboxServer]]:
    """Both sandboxes on free ports, ``cash`` USDT each, from bar ``START`` of 200."""
    files = write_markets(folder, 200)
    async with AsyncExitStack() as stack:
        servers = {}
        for venue, symbols in VENUES.items():
            sandbox = SandboxConfig(
                port=0, data_files={s: files[s] for s in symbols}, spread_bps=Decimal(0),
                level_notional=Decimal(BIG), start_index=START, weight_limit_1m=BIG,
                balances={"USDT": cash},
            )  # fmt: skip
            servers[venue] = await stack.enter_async_context(SandboxServer(sandbox))
        yield servers


def ports(servers: dict[str, SandboxServer]) -> dict[str, str]:
    """Each venue's sandbox port."""
    return {v: s.http_url.rsplit(":", 1)[1] for v, s in servers.items()}


async def advance_all(servers: dict[str, SandboxServer]) -> int:
    """Move every sandbox one bar; return the open time of the bar that just closed."""
    for server in servers.values():
        await server.advance(1)
    return servers["binance"].current_candle("BTC/USDT").ts_ms - 3_600_000


async def exchange_state(server: SandboxServer, venue: str) -> tuple[set[str], set[str]]:
    """The client ids of every order, and the ids of every fill, ``venue`` holds."""
    ex = sandbox_exchange(server.http_url)
    ex.enableRateLimit = False
    try:
        orders: set[str] = set()
        fills: set[str] = set()
        for symbol in VENUES[venue]:
            orders |= {str(o["clientOrderId"]) for o in await ex.fetch_orders(symbol, None, 1000)}
            fills |= {str(t["id"]) for t in await ex.fetch_my_trades(symbol, None, 1000)}
        return orders, fills
    finally:
        await ex.close()


def cycle_done(repo: Repository, ts: int) -> bool:
    """The cycle of bar ``ts`` is over: every symbol decided and the orders sent (the
    account's snapshot is recorded last), so the next bar does not move under a send."""
    snapshot = repo.latest_snapshot()
    return snapshot is not None and snapshot.ts_ms >= ts
