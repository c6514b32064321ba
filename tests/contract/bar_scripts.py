"""Bar scripts for the fill-rule table test, and the two venues that play them.

A script is a few bars and the orders placed at the open of its first bar. Bar 0 of the data
is a quiet lead-in (the backtest venue needs a price before a market order); the scripted bars
follow; a flat tail bar ends the data (the sandbox needs a next bar to open). Both venues
trade BTC/USDT around 100 with tick 0.01, lot 0.001, no spread and a book deep enough that no
taker walks it, so what differs between them can only be the fill rule.

* ``play_backtest`` drives ``SimulatedExchange`` as the backtester does: ``open_bar`` then
  ``trade_bar`` for every bar, the orders submitted before the first scripted bar opens.
* ``play_sandbox`` starts the sandbox on those bars and trades through ``CcxtConnector`` and
  unmodified ccxt over 127.0.0.1: the orders are placed while the first scripted bar is the
  current one, then the clock advances bar by bar.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tradebot.domain.commands import PlaceOrder
from tradebot.domain.market import Market
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide, OrderType, TimeInForce
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.sandbox import SandboxConfig, SandboxServer

SYMBOL = "BTC/USDT"
T0 = 1_733_011_200_000
MINUTE_MS = 60_000
MARKET = Market(SYMBOL, "BTC", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), 5)
BALANCES = {"USDT": Decimal(10_000), "BTC": Decimal(10)}
Ohlc = tuple[str, str, str, str]
Outcome = tuple[str, str, str, str, str, bool, str]
"""One fill as the table states it: client id, price, qty, fee, fee asset, maker, time."""


@dataclass(frozen=True)
class Script:
    """Bars (1, 2, ...) and the orders placed at bar 1's open; what must come of them."""

    name: str
    bars: list[Ohlc]
    orders: list[PlaceOrder]
    fills: list[Outcome]
    statuses: dict[str, str] = field(default_factory=dict)
    fees: FeeSchedule = field(
        default_factory=lambda: FeeSchedule(Decimal("0.001"), Decimal("0.001"))
    )


def buy(cid: str, kind: OrderType, price: str | None = None, qty: str = "1") -> PlaceOrder:
    """A buy order (market or limit)."""
    tif = TimeInForce.GTC
    return PlaceOrder(ClientOrderId(cid), SYMBOL, OrderSide.BUY, kind, Decimal(qty),
                      None if price is None else Decimal(price), time_in_force=tif)  # fmt: skip


def sell(
    cid: str,
    kind: OrderType,
    price: str | None = None,
    stop: str | None = None,
    take_profit: tuple[str, str] | None = None,
) -> PlaceOrder:
    """A sell of 1 BTC; ``take_profit`` = (id, price) makes a stop an OCO list."""
    return PlaceOrder(
        ClientOrderId(cid),
        SYMBOL,
        OrderSide.SELL,
        kind,
        Decimal(1),
        None if price is None else Decimal(price),
        None if stop is None else Decimal(stop),
        take_profit_id=None if take_profit is None else ClientOrderId(take_profit[0]),
        take_profit_price=None if take_profit is None else Decimal(take_profit[1]),
    )


def _data(script: Script) -> list[tuple[int, str, str, str, str]]:
    first_open = Decimal(script.bars[0][0])
    lead_in = (str(first_open), str(first_open + Decimal("0.45")),
               str(first_open - Decimal("0.55")), str(first_open))  # fmt: skip
    last_close = script.bars[-1][3]
    tail = (last_close, last_close, last_close, last_close)
    rows = [lead_in, *script.bars, tail]
    return [(T0 + i * MINUTE_MS, *row) for i, row in enumerate(rows)]


def stamp(ts_ms: int) -> str:
    """A fill time as the table states it: "bar 2" is bar 2's open time exactly."""
    index, offset = divmod(ts_ms - T0, MINUTE_MS)
    return f"bar {index}" if offset == 0 else f"bar {index} +{offset} ms"


@dataclass(frozen=True)
class Played:
    """What a venue did with a script: its fills in order, and each order's final status."""

    fills: list[Outcome]
    statuses: dict[str, str]


def _order_ids(script: Script) -> list[ClientOrderId]:
    ids = []
    for cmd in script.orders:
        ids.append(cmd.client_order_id)
        if cmd.take_profit_id is not None:
            ids.append(cmd.take_profit_id)
    return ids


def play_backtest(script: Script) -> Played:
    """Run the script through ``SimulatedExchange`` bar by bar, as the backtester does."""
    sim = SimulatedExchange([MARKET], BALANCES, script.fees)
    rows = _data(script)
    for i, (ts, o, h, low, c) in enumerate(rows):
        if i == 1:
            for cmd in script.orders:
                sim.submit(cmd)
        sim.open_bar(SYMBOL, ts, float(o), float(h), float(low), float(c))
        sim.trade_bar(SYMBOL)
    fills = sim.fills(SYMBOL)
    statuses = {cid: str(sim.order(cid).status) for cid in _order_ids(script)}
    return Played([_outcome(f) for f in fills], statuses)


async def play_sandbox(script: Script, tmp_path: Path) -> Played:
    """Run the script on the sandbox through ccxt over loopback."""
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{ts},{o},{h},{low},{c},100" for ts, o, h, low, c in _data(script)]
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    config = SandboxConfig(
        port=0,
        data_files={SYMBOL: path},
        balances=dict(BALANCES),
        maker_fee_rate=script.fees.maker,
        taker_fee_rate=script.fees.taker,
        spread_bps=Decimal(0),
        level_notional=Decimal(100_000_000),
        start_index=1,
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
            for cmd in script.orders:
                await connector.create_order(cmd)
            await sandbox.advance(len(script.bars))
            fills = await connector.fetch_my_trades(SYMBOL)
            statuses = {
                cid: str((await connector.fetch_order(cid, SYMBOL)).status)
                for cid in _order_ids(script)
            }
        finally:
            await connector.close()
    return Played([_outcome(f) for f in fills], statuses)


def _outcome(fill: Fill) -> Outcome:
    return (
        fill.client_order_id,
        f"{fill.price:f}".rstrip("0").rstrip("."),
        f"{fill.qty:f}".rstrip("0").rstrip("."),
        f"{fill.fee:f}".rstrip("0").rstrip("."),
        fill.fee_asset,
        fill.is_maker,
        stamp(fill.ts_ms),
    )
