"""Two venues behind one port for the contract suite: CcxtConnector→sandbox and SimulatedConnector.

Both trade BTC/USDT on the same generated candles (2-decimal prices around 95,000, so the
sandbox derives the same tick 0.01 / lot 0.00001 / min notional 5 the simulated market gets),
start with 10,000 USDT at bar 0's open, charge 0.1 % fees and show a 2 bps synthetic book.
``settle()`` lets a market order execute: the sandbox fills it at once against its book; the
simulated exchange fills it when the current bar is processed, at that bar's open.
``advance()`` closes the current bar on either (resting orders fill on the way).
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.market import Candle, Market
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderType
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.stream import StreamSettings
from tradebot.exchange.port import ExchangeConnector
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.exchange.simulated_connector import SimulatedConnector
from tradebot.exchange.simulated_market import BookShape, CandleHistory
from tradebot.sandbox import SandboxConfig, SandboxServer

SYMBOL = "BTC/USDT"
TIMEFRAME = "1m"
T0 = 1_733_011_200_000
BARS = 40
START_USDT = Decimal(10_000)
MARKET = Market(
    SYMBOL, "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal(5)
)


def bar(i: int) -> tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """Bar i: open 95000.25 + 10·i, a 30-dollar range, close open + 5."""
    o = Decimal("95000.25") + 10 * i
    return (T0 + i * 60_000, o, o + 15, o - 15, o + 5, Decimal(12))


def candle(i: int) -> Candle:
    """Bar i as a domain Candle."""
    ts, o, h, low, c, v = bar(i)
    return Candle(ts, float(o), float(h), float(low), float(c), float(v))


def order(
    cid: str, kind: OrderType, qty: str, price: str | None = None, side: OrderSide = OrderSide.BUY
) -> PlaceOrder:
    """A BTC/USDT order command."""
    return PlaceOrder(
        ClientOrderId(cid),
        SYMBOL,
        side,
        kind,
        Decimal(qty),
        None if price is None else Decimal(price),
    )


@dataclass
class VenueHarness:
    """A port implementation plus the venue-specific steps a test needs."""

    name: str
    port: ExchangeConnector
    sandbox: SandboxServer | None = None
    sim: SimulatedConnector | None = None

    async def settle(self) -> None:
        """Let submitted market orders execute (sim: process the current bar)."""
        if self.sim is not None:
            await self.sim.advance()

    async def advance(self, bars: int = 1) -> None:
        """Close ``bars`` bars and open the next (resting orders fill on the way)."""
        if self.sim is not None:
            await self.sim.advance(bars)
        elif self.sandbox is not None:
            await self.sandbox.advance(bars)


def _write_candles(path: Path) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [",".join(str(v) for v in bar(i)) for i in range(BARS)]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


async def ccxt_sandbox(tmp_path: Path) -> AsyncIterator[VenueHarness]:
    config = SandboxConfig(
        port=0,
        data_files={SYMBOL: _write_candles(tmp_path / "btc.csv.gz")},
        balances={"USDT": START_USDT},
        spread_bps=Decimal(2),
    )
    async with SandboxServer(config) as sandbox:
        settings = ConnectSettings(
            venue=Venue.SANDBOX,
            sandbox_url=sandbox.http_url,
            websockets=False,
            runtime_dir=tmp_path,
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01),
            streams=StreamSettings(poll_interval_s=0.02),
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        try:
            yield VenueHarness("ccxt-sandbox", connector, sandbox=sandbox)
        finally:
            await connector.close()


async def simulated() -> AsyncIterator[VenueHarness]:
    sim = SimulatedExchange([MARKET], {"USDT": START_USDT})
    history = CandleHistory({SYMBOL: [candle(i) for i in range(BARS)]}, TIMEFRAME)
    connector = SimulatedConnector(sim, history, BookShape(spread_bps=Decimal(2)))
    try:
        yield VenueHarness("simulated", connector, sim=connector)
    finally:
        await connector.close()
