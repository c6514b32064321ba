"""Unmodified ccxt reads the sandbox's public REST endpoints."""

from __future__ import annotations

import gzip
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import pytest

from tradebot.backtest.markets import backtest_market
from tradebot.sandbox import SandboxServer


async def test_load_markets_unknown_pair_filters_match_the_replayed_prices(
    start_sandbox: Callable[..., Awaitable[SandboxServer]],
    make_exchange: Callable[..., Any],
    candles: Path,
) -> None:
    # Arrange: a pair Binance's table does not hold, replayed at about 100
    server = await start_sandbox(data_files={"XYZ/USDT": candles}, balances={})
    # Act
    markets = await make_exchange(server).load_markets()
    # Assert: tick from the prices' decimals, a lot step worth about 0.1 quote
    xyz = markets["XYZ/USDT"]
    assert xyz["id"] == "XYZUSDT"
    assert xyz["active"] is True
    assert xyz["precision"]["price"] == pytest.approx(0.1)
    assert xyz["precision"]["amount"] == pytest.approx(0.001)
    assert xyz["limits"]["cost"]["min"] == pytest.approx(5)
    assert "STOP_LOSS_LIMIT" in xyz["info"]["orderTypes"]


@pytest.mark.parametrize(
    ("symbol", "price"),
    [
        ("BTC/USDT", "100"),
        ("BTC/USDT", "99000.01"),
        ("BTC/USDT", "104000.5"),
        ("DOGE/USDT", "0.19"),
    ],
)
async def test_load_markets_known_pair_states_the_backtest_rules_at_any_price(
    start_sandbox: Callable[..., Awaitable[SandboxServer]],
    make_exchange: Callable[..., Any],
    tmp_path: Path,
    t0: int,
    symbol: str,
    price: str,
) -> None:
    # Arrange: BTC/USDT's lot step on Binance is 0.00001 below 100,000 and above it; the
    # sandbox once derived 0.000001 from a file opening at 104,000, so paper sized BTC
    # positions finer than the backtest (and Binance) of the same bars
    rows = [f"{t0 + i * 60_000},{price},{price},{price},{price},1" for i in range(3)]
    data = tmp_path / "pair.csv.gz"
    data.write_bytes(
        gzip.compress(("timestamp,open,high,low,close,volume\n" + "\n".join(rows)).encode())
    )
    server = await start_sandbox(data_files={symbol: data}, balances={})
    # Act
    market = (await make_exchange(server).load_markets())[symbol]
    # Assert
    rules = backtest_market(symbol)
    assert Decimal(str(market["precision"]["amount"])) == rules.qty_step
    assert Decimal(str(market["precision"]["price"])) == rules.price_step
    assert Decimal(str(market["limits"]["amount"]["min"])) == rules.min_qty
    assert Decimal(str(market["limits"]["cost"]["min"])) == rules.min_notional


async def test_fetch_time_is_the_wall_clock(exchange: Any) -> None:
    server_ms = await exchange.fetch_time()
    assert abs(server_ms - time.time() * 1000) < 5_000


async def test_fetch_ticker_at_start_shows_the_first_open(exchange: Any, t0: int) -> None:
    ticker = await exchange.fetch_ticker("BTC/USDT")
    assert ticker["last"] == pytest.approx(100)
    assert ticker["bid"] == pytest.approx(100)
    assert ticker["ask"] == pytest.approx(100)
    assert ticker["timestamp"] == t0


async def test_fetch_ticker_after_advance_covers_the_closed_bars(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # Arrange
    await sandbox.advance(3)
    # Act
    ticker = await exchange.fetch_ticker("BTC/USDT")
    # Assert: bars 0..2 closed, bar 3 open at 103
    assert ticker["last"] == pytest.approx(103)
    assert ticker["open"] == pytest.approx(100)
    assert ticker["high"] == pytest.approx(105)
    assert ticker["low"] == pytest.approx(97)
    assert ticker["baseVolume"] == pytest.approx(30, abs=0.01)


async def test_fetch_tickers_lists_every_symbol(exchange: Any) -> None:
    tickers = await exchange.fetch_tickers()
    assert list(tickers) == ["BTC/USDT"]


async def test_fetch_order_book_is_synthesised_around_the_price(exchange: Any) -> None:
    book = await exchange.fetch_order_book("BTC/USDT", 5)
    assert book["bids"][0] == [pytest.approx(100), pytest.approx(10)]
    assert book["asks"][1] == [pytest.approx(100.1), pytest.approx(10)]
    assert len(book["asks"]) == 5
    assert book["nonce"] > 0


async def test_fetch_bids_asks_reads_book_ticker(exchange: Any) -> None:
    rows = await exchange.fetch_bids_asks(["BTC/USDT"])
    assert rows["BTC/USDT"]["bid"] == pytest.approx(100)


async def test_fetch_ohlcv_returns_only_bars_opened_by_now(
    sandbox: SandboxServer, exchange: Any, t0: int
) -> None:
    # Arrange
    await sandbox.advance(2)
    # Act
    rows = await exchange.fetch_ohlcv("BTC/USDT", "1m", limit=10)
    # Assert: two closed bars and the still-open bar with just its open
    assert [r[0] for r in rows] == [t0, t0 + 60_000, t0 + 120_000]
    assert rows[0][1:] == [pytest.approx(v) for v in (100, 103, 97, 100.5, 10)]
    assert rows[-1][1:] == [pytest.approx(v) for v in (102, 102, 102, 102, 0)]


async def test_fetch_ohlcv_since_starts_at_since(
    sandbox: SandboxServer, exchange: Any, t0: int
) -> None:
    await sandbox.advance(5)
    rows = await exchange.fetch_ohlcv("BTC/USDT", "1m", since=t0 + 120_000, limit=2)
    assert [r[0] for r in rows] == [t0 + 120_000, t0 + 180_000]


async def test_fetch_ohlcv_other_interval_is_refused(exchange: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="replays 1m bars"):
        await exchange.fetch_ohlcv("BTC/USDT", "1h")


async def test_fetch_trades_lists_the_replay_prints(sandbox: SandboxServer, exchange: Any) -> None:
    await sandbox.advance(1)
    trades = await exchange.fetch_trades("BTC/USDT")
    # bar 0 rising: open 100 -> low 97 -> high 103 -> close 100.5
    assert [t["price"] for t in trades] == [pytest.approx(p) for p in (97, 103, 100.5)]


async def test_unserved_path_answers_json_and_ccxt_raises(
    sandbox: SandboxServer, exchange: Any
) -> None:
    # Act: a raw request, then a ccxt call to an endpoint the sandbox does not serve
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.http_url}/api/v3/historicalTrades") as resp,
    ):
        body = await resp.json()
    # Assert
    assert resp.status == 404
    assert "not served" in body["msg"]
    with pytest.raises(ccxt.ExchangeError):
        await exchange.fetch_deposits()


async def test_unknown_symbol_is_refused_with_1121(sandbox: SandboxServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.http_url}/api/v3/depth?symbol=DOGEUSDT") as resp,
    ):
        body = await resp.json()
    assert resp.status == 400
    assert body == {"code": -1121, "msg": "Invalid symbol."}
