"""The sandbox's market rules are never stricter than Binance's (DESIGN.md rule 9): a pair the
sandbox derives from its data accepts the amounts Binance would accept for it."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradebot.sandbox import SandboxServer

T0 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000


def _cheap_candles(path: Path, bars: int = 20) -> Path:
    """A meme-coin-like pair: prices around 0.00002 USDT."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(bars):
        o = Decimal("0.00002000") + Decimal(i) * Decimal("0.00000010")
        step = Decimal("0.00000050")
        lines.append(f"{T0 + i * 60_000},{o},{o + step},{o - step},{o + step / 2},1000000000")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


async def test_unknown_cheap_pair_accepts_ten_million_units(
    start_sandbox: Callable[..., Awaitable[SandboxServer]],
    make_exchange: Callable[..., Any],
    tmp_path: Path,
) -> None:
    # Arrange: a pair the sandbox has no Binance rules for, at 0.00002 USDT
    server = await start_sandbox(
        data_files={"PEPE/USDT": _cheap_candles(tmp_path / "PEPEUSDT-1m.csv.gz")},
        balances={"USDT": Decimal(10_000)},
        level_notional=Decimal(1_000_000),
    )
    exchange = make_exchange(server)
    await server.advance(1)

    # Act: 10,000,000 units are about 200 USDT, an ordinary order on Binance
    order = await exchange.create_order("PEPE/USDT", "market", "buy", 10_000_000)

    # Assert
    assert order["status"] == "closed"
    assert order["filled"] == pytest.approx(10_000_000)
    markets = await exchange.load_markets(True)
    assert markets["PEPE/USDT"]["limits"]["amount"]["max"] >= 90_000_000_000


async def test_known_pair_states_binance_lot_size_maximum(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # BTC/USDT: Binance's LOT_SIZE maxQty is 9000
    markets = await exchange.load_markets(True)
    assert markets["BTC/USDT"]["limits"]["amount"]["max"] == 9000
