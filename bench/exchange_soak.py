"""Fault soak: CcxtConnector against the sandbox with 429s, 5xx, latency, timeouts, lost order
responses, websocket drops and a maintenance window.

Every call must end in success or a typed tradebot error; there must be no 418 ban and no
duplicate order (two venue orders under one client order id). Prints the figures::

    .venv/bin/python bench/exchange_soak.py --seconds 120

The short version of this run is tests/integration/exchange/test_ccxt_fault_soak.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.errors import RateLimited, TradebotError
from tradebot.domain.orders import ClientOrderId, OrderSide, OrderStatus, OrderType
from tradebot.exchange.ccxt.connector import CcxtConnector
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.ccxt.stream import StreamSettings
from tradebot.sandbox import FaultConfig, SandboxConfig, SandboxServer

SYMBOL = "BTC/USDT"


@dataclass
class SoakReport:
    """What the soak saw."""

    seconds: float = 0.0
    calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    untyped_errors: list[str] = field(default_factory=list)
    orders_sent: int = 0
    unknown_after_run: int = 0
    duplicates: int = 0
    replaces: int = 0
    """Cancel-replaces that placed their bid: each must have canceled the one it replaced."""
    replaced_left_open: int = 0
    """Bids the venue still held open after a cancel-replace placed their successor."""
    events: Counter[str] = field(default_factory=Counter)

    @property
    def ws_drops(self) -> int:
        """Websocket drops the streams survived."""
        return sum(v for k, v in self.events.items() if k.startswith("ws_drop"))

    def lines(self) -> list[str]:
        """Human-readable figures."""
        return [
            f"soak seconds        {self.seconds:.1f}",
            f"http calls made     {self.calls}",
            f"port calls          {sum(self.outcomes.values())} {dict(self.outcomes)}",
            f"retries             {self.events['retry']}",
            f"429s seen           {self.events['rate_limited']}",
            f"418s (must be 0)    {self.events['banned']}",
            f"orders sent         {self.orders_sent}",
            f"  resolved by look-up {self.events['order_resolved']}, "
            f"duplicate refused {self.events['duplicate_refused']}",
            f"  returned UNKNOWN  {self.unknown_after_run} (left for fetch_order)",
            f"duplicates (must be 0) {self.duplicates}",
            f"cancel-replaces placed {self.replaces}; replaced bid left open (must be 0) "
            f"{self.replaced_left_open}",
            f"ws drops            {self.ws_drops}",
            f"untyped errors      {len(self.untyped_errors)}",
        ]


def write_candles(path: Path, bars: int = 2000) -> Path:
    """Generated 1m bars around 95,000 (2-decimal prices)."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(bars):
        o = Decimal("95000.25") + (i % 50) * 10
        lines.append(f"{1_733_011_200_000 + i * 60_000},{o},{o + 15},{o - 15},{o + 5},12")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def soak_config(folder: Path, weight_limit_1m: int) -> SandboxConfig:
    """A sandbox with every REST fault switched on (websocket drops every 2 s)."""
    faults = FaultConfig(
        error_rate=0.08,
        latency_ms=3,
        timeout_rate=0.02,
        ambiguous_timeout_rate=0.1,
        hang_s=0.5,
        ws_disconnect_after_s=2.0,
    )
    return SandboxConfig(
        port=0,
        data_files={SYMBOL: write_candles(folder / "btc.csv.gz")},
        balances={"USDT": Decimal(1_000_000)},
        faults=faults,
        weight_limit_1m=weight_limit_1m,
        deterministic=False,
        speed=60.0,
    )


class Soak:
    """Drives one connector with a random mix of port calls until the deadline."""

    def __init__(
        self, connector: CcxtConnector, seed: int, venue_open: Callable[[str], bool]
    ) -> None:
        """Drive ``connector``; ``venue_open`` says whether the venue holds a client id open."""
        self.connector = connector
        self._venue_open = venue_open
        self.rng = random.Random(seed)
        self.report = SoakReport()
        self.cids: list[ClientOrderId] = []
        self._chain: ClientOrderId | None = None
        """The resting bid the next cancel-replace cancels (None: place one first)."""
        self._chain_lock = asyncio.Lock()

    async def step(self) -> None:
        """One port call; a typed error is an outcome, anything else is a failure."""
        choice = self.rng.choice(
            ["order", "order", "ticker", "balance", "lookup", "candles", "replace"]
        )
        try:
            await self._call(choice)
            self.report.outcomes["ok"] += 1
        except RateLimited as error:
            self.report.outcomes["RateLimited"] += 1
            await asyncio.sleep(min(error.retry_after_s, 1.0))
        except TradebotError as error:
            self.report.outcomes[type(error).__name__] += 1
        except Exception as error:
            self.report.untyped_errors.append(repr(error))

    async def _call(self, choice: str) -> None:
        c = self.connector
        if choice == "order":
            cid = ClientOrderId(f"soak-{len(self.cids):05d}")
            self.cids.append(cid)
            self.report.orders_sent += 1
            command = PlaceOrder(cid, SYMBOL, OrderSide.BUY, OrderType.MARKET, Decimal("0.0001"))
            order = await c.create_order(command)
            self.report.unknown_after_run += order.status is OrderStatus.UNKNOWN
        elif choice == "ticker":
            await c.fetch_ticker(SYMBOL)
        elif choice == "balance":
            await c.fetch_balance()
        elif choice == "candles":
            await c.fetch_ohlcv(SYMBOL, "1m", limit=5)
        elif choice == "replace":
            async with self._chain_lock:
                await self._replace()
        elif self.cids:
            await c.fetch_order(self.rng.choice(self.cids), SYMBOL)

    async def _replace(self) -> None:
        """Move the chain's resting bid: cancel it and rest a new one in one request (the
        first is placed plainly). After any failure the chain starts over."""
        cid = ClientOrderId(f"soak-bid-{len(self.cids):05d}")
        self.cids.append(cid)
        price = Decimal(50_000 + self.rng.randrange(1000))
        command = PlaceOrder(cid, SYMBOL, OrderSide.BUY, OrderType.LIMIT, Decimal("0.001"), price)
        old, self._chain = self._chain, None
        if old is None:
            placed = await self.connector.create_order(command)
        else:
            _, placed = await self.connector.replace_order(old, command)
            if placed.status is OrderStatus.OPEN:
                self.report.replaces += 1
                self.report.replaced_left_open += self._venue_open(old)
        self._chain = cid if placed.status is OrderStatus.OPEN else None

    async def watch(self, deadline: float) -> None:
        """Keep a candle stream open through the websocket drops."""
        stream = self.connector.watch_candles(SYMBOL, "1m")
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(
                    anext(stream), timeout=max(0.01, deadline - time.monotonic())
                )
            except TimeoutError:
                return

    def audit(self, sandbox: SandboxServer) -> None:
        """Count venue orders sharing a client id, and resends the venue refused as duplicates.

        The sandbox refuses any reused client id, so a second copy shows up as a refusal
        (``duplicate_refused``) rather than a second order; on Binance, where only ids of
        open orders are refused, that resend could have filled twice. Both must be 0.
        """
        orders = sandbox.venue.engine.orders.values()
        per_cid = Counter(o.client_id for o in orders)
        stacked = sum(n - 1 for n in per_cid.values() if n > 1)
        self.report.duplicates = stacked + self.report.events["duplicate_refused"]


async def run_soak(
    seconds: float, folder: Path, *, workers: int = 3, seed: int = 1, weight_limit_1m: int = 6000
) -> SoakReport:
    """Run the soak for ``seconds`` and return its report."""
    config = soak_config(folder, weight_limit_1m)
    async with SandboxServer(config) as sandbox:
        settings = ConnectSettings(
            venue=Venue.SANDBOX,
            sandbox_url=sandbox.http_url,
            timeout_s=0.3,
            runtime_dir=folder,
            budget=RateBudget(weight_per_window=6000, safety=0.8),
            retry=RetryPolicy(max_attempts=4, base_delay_s=0.02, max_delay_s=2.0),
            streams=StreamSettings(poll_interval_s=0.2),
        )
        connector = connect(settings, Credentials(config.api_key, config.api_secret))
        orders = sandbox.venue.engine.orders
        soak = Soak(
            connector,
            seed,
            lambda cid: any(o.client_id == cid and o.is_open for o in orders.values()),
        )
        started = time.monotonic()
        deadline = started + seconds
        try:
            await connector.load_markets()

            async def worker() -> None:
                while time.monotonic() < deadline:
                    await soak.step()

            async def maintenance() -> None:
                await asyncio.sleep(seconds / 2)
                sandbox.faults.update({"maintenance_s": min(1.0, seconds / 6)})

            await asyncio.gather(
                soak.watch(deadline), maintenance(), *(worker() for _ in range(workers))
            )
            soak.report.seconds = time.monotonic() - started
        finally:
            soak.report.calls = connector.metrics.calls
            soak.report.events = Counter(connector.metrics.events)
            await connector.close()
        soak.audit(sandbox)
    return soak.report


def main() -> None:
    """Run the long soak and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--sandbox-weight-limit",
        type=int,
        default=600,
        help="the sandbox's weight per minute; below the bot's budget to provoke 429s",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = asyncio.run(
            run_soak(
                args.seconds,
                Path(folder),
                workers=args.workers,
                weight_limit_1m=args.sandbox_weight_limit,
            )
        )
    print("\n".join(report.lines()))
    for line in report.untyped_errors[:10]:
        print("UNTYPED:", line)
    ok = (
        report.events["banned"] == 0
        and report.duplicates == 0
        and report.replaced_left_open == 0
        and not report.untyped_errors
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
