"""Several markets over one connection: the bot follows every market's candles on one
websocket (ccxt.pro's kline streams, against the sandbox over 127.0.0.1), sends its REST
calls through the one shared rate limiter, asks REST for no candles once the streams run,
and trades exactly as the basket backtest of the same bars."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from basket_markets import MARKETS, write_markets
from tradebot.backtest.basket import BasketData
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import load_candles
from tradebot.exchange.ccxt.credentials import Credentials
from tradebot.exchange.ccxt.factory import ConnectSettings, Venue, connect
from tradebot.exchange.ccxt.metrics import ConnectorMetrics
from tradebot.exchange.ccxt.ratelimit import RateBudget
from tradebot.orchestrator.assembly import engine_factory
from tradebot.orchestrator.bot_settings import BotSettings
from tradebot.orchestrator.live import TradingBot
from tradebot.orchestrator.paper import config_window
from tradebot.parity import QUICK_STRATEGY, seen_bars, simulate_basket, trade_differences
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.state import Repository, create_database

ROWS, START, BARS = 140, 60, 60
KEY, SECRET = "streams-key", "streams-secret"
BIG = 10_000_000


def _config() -> Config:
    overrides = {**QUICK_STRATEGY, "trading.symbols": list(MARKETS), "risk.max_open_positions": 3}
    return with_overrides(load_config(None), overrides, "test")


async def _eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"not within {timeout_s} s"
        await asyncio.sleep(0.005)


async def test_paper_basket_over_one_websocket_trades_as_the_basket_backtest(
    tmp_path: Path,
) -> None:
    # Arrange: three markets on one sandbox account, a bot streaming their candles
    config, files = _config(), write_markets(tmp_path, ROWS)
    sandbox = SandboxConfig(
        port=0, api_key=KEY, api_secret=SECRET, data_files=files,
        balances={"USDT": Decimal(10_000)}, spread_bps=Decimal(0),
        level_notional=Decimal(BIG), deterministic=True, start_index=START, weight_limit_1m=BIG,
        maker_fee_rate=Decimal(repr(config.backtest.maker_fee_rate)),
        taker_fee_rate=Decimal(repr(config.backtest.fee_rate)),
    )  # fmt: skip
    metrics = ConnectorMetrics()
    async with SandboxServer(sandbox) as server:
        settings = ConnectSettings(
            venue=Venue.SANDBOX, sandbox_url=server.http_url, sandbox_ws_url=server.ws_url,
            websockets=True, budget=RateBudget(weight_per_window=BIG, orders_per_window=BIG),
            runtime_dir=tmp_path / "rt",
        )  # fmt: skip
        connector = connect(settings, Credentials(KEY, SECRET), metrics)
        repo = Repository(create_database(f"sqlite:///{tmp_path / 'bot.db'}"))
        bot_settings = BotSettings(
            tuple(MARKETS), "1h", window_bars=max(config_window(config), 50), stream_candles=True
        )
        bot = TradingBot(engine_factory(config), connector, repo, bot_settings)
        try:
            await bot.start()
            feed = bot.candle_feed
            assert feed is not None
            seeded = metrics.endpoints["fetch_ohlcv"].calls  # the windows fetched at start

            # Act: each bar closes on the sandbox; the bot cycles once its streams show it
            for _ in range(BARS):
                await server.advance(1)
                now = server.now_ms
                await _eventually(lambda now=now: all(feed.forming(s) == now for s in MARKETS))
                assert await bot.poll() == len(MARKETS)
            market_sockets = [c for c in server.hub.connections if c.streams]
            live = {s: server.current_candle(s).ts_ms for s in MARKETS}
            paper = list(bot.engine.trades)
            klines_after_start = metrics.endpoints["fetch_ohlcv"].calls - seeded
        finally:
            await bot.close()

    # Assert: one websocket carries every market's klines; no candle asked of REST since
    assert len(market_sockets) == 1
    assert {f"{s.replace('/', '').lower()}@kline_1h" for s in MARKETS} <= market_sockets[0].streams
    assert klines_after_start == 0
    assert seeded == len(MARKETS)
    assert {t.symbol for t in paper} == set(MARKETS)
    # the same trades as the basket backtest of the bars the session saw
    candles = {s: seen_bars(load_candles(files[s]), live[s]) for s in MARKETS}
    start = int(candles["BTC/USDT"]["ts_ms"][START])
    backtest, _ = simulate_basket(config, BasketData(candles, config, "streams", start))
    key = lambda t: (t.exit_ts_ms, t.entry_ts_ms, t.symbol)  # noqa: E731
    assert trade_differences(sorted(paper, key=key), sorted(backtest.trades, key=key)) == []
