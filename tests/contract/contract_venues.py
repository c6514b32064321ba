"""Two venues behind one port for the contract suite: CcxtConnector→sandbox and SimulatedExchange.

Both trade BTC/USDT on the same generated candles (2-decimal prices around 95,000, so the
sandbox derives the same tick 0.01 / lot 0.00001 / min notional 5 the simulated market gets)
and start with 10,000 USDT. ``Venue.settle()`` lets a market order execute: the sandbox fills
it at once against its book; the simulated exchange fills it at the next bar's open.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradebot.domain.market import Market
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.simulated import SimulatedExchange
from tradebot.sandbox import SandboxConfig, SandboxServer

SYMBOL = "BTC/USDT"
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


@dataclass
class VenueHarness:
    """A port implementation plus the one venue-specific step a test needs."""

    name: str
    port: Any  # an ExchangeConnector
    sandbox: SandboxServer | None = None
    sim: SimulatedExchange | None = None
    next_bar: int = 1

    async def settle(self) -> None:
        """Let submitted market orders execute (sim: open the next bar)."""
        if self.sim is not None:
            ts, o, h, low, c, _ = bar(self.next_bar)
            self.sim.open_bar(SYMBOL, ts, float(o), float(h), float(low), float(c))
            self.sim.trade_bar(SYMBOL)
            self.next_bar += 1


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
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        try:
            yield VenueHarness("ccxt-sandbox", connector, sandbox=sandbox)
        finally:
            await connector.close()


async def simulated() -> AsyncIterator[VenueHarness]:
    if not hasattr(SimulatedExchange, "create_order"):
        pytest.skip("SimulatedExchange does not speak the async port yet (lead engineer wires it)")
    sim = SimulatedExchange([MARKET], {"USDT": START_USDT})
    ts, o, h, low, c, _ = bar(0)
    sim.open_bar(SYMBOL, ts, float(o), float(h), float(low), float(c))
    yield VenueHarness("simulated", sim, sim=sim)
