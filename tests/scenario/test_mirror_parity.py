"""Paper trading on live prices makes a backtest's trades: the mirror-mode chain.

Sandbox A replays the bundled BTC/USDT 1h sample and plays "the real exchange": the test
closes its bars one by one. Sandbox B runs in mirror mode: it takes its candles from A's
public endpoints through unmodified ccxt (binance's URLs pointed at A on 127.0.0.1) and
matches orders locally. The bot trades B through the real path. Its trades, field by field,
are those of a backtest of the bars A closed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from test_paper_basket import BASKET, basket_config, write_basket

from paper_venue import BIG, KEY, SAMPLE, SECRET, make_bot, sandbox
from tradebot.backtest.basket import BasketData
from tradebot.backtest.session import simulate, simulate_basket
from tradebot.config import Config, load_config
from tradebot.data.load import load_candles
from tradebot.exchange.ccxt.market_source import market_data_source
from tradebot.exchange.ccxt.retry import RetryPolicy
from tradebot.parity import configurations, parity_config, seen_bars, trade_differences
from tradebot.sandbox import SandboxConfig, SandboxServer
from tradebot.sandbox.mirror import MirrorConfig

START, BARS = 400, 200


def mirror_of(source: SandboxServer, config: Config, tmp_path: Path) -> SandboxConfig:
    """Sandbox B: public data from ``source`` as if it were Binance, our own account."""
    fast = RetryPolicy(max_attempts=3, base_delay_s=0.005, max_delay_s=0.02)
    feed = market_data_source("binance", source.http_url, retry=fast, runtime_dir=tmp_path / "m")
    symbols = tuple(config.trading.all_symbols)
    mirror = MirrorConfig(feed, symbols, "1h", "exchange.sandbox.market_data: binance")
    return SandboxConfig(
        port=0, api_key=KEY, api_secret=SECRET, data_files={},
        balances={"USDT": config.trading.starting_cash},
        maker_fee_rate=Decimal(repr(config.backtest.maker_fee_rate)),
        taker_fee_rate=Decimal(repr(config.backtest.fee_rate)),
        spread_bps=Decimal(0), level_notional=Decimal(BIG), weight_limit_1m=BIG, mirror=mirror,
    )  # fmt: skip


async def test_bot_on_a_mirror_of_the_exchange_trades_as_the_backtest(tmp_path: Path) -> None:
    # Arrange: market entries, the stop and a take-profit resting in B as one OCO list
    config = parity_config(load_config(None), configurations("1h", 3_600_000)["oco"])
    async with sandbox() as exchange, SandboxServer(mirror_of(exchange, config, tmp_path)) as b:
        bot = make_bot(b, tmp_path, config=config)
        try:
            await bot.start()
            # Act: the exchange closes a bar; the mirror sees it closed; the bot decides
            for _ in range(BARS):
                await exchange.advance(1)
                assert await b.follow_source() == 1
                await bot.step()
            paper = list(bot.engine.trades)
            live = b.current_candle("BTC/USDT")
        finally:
            await bot.close()
    candles = seen_bars(load_candles(SAMPLE, repair="drop"), live.ts_ms)
    result, _ = simulate(config, candles, start_index=START)
    # Assert
    assert trade_differences(paper, result.trades) == []
    assert len(paper) >= 5, "the window must hold enough trades to mean something"
    assert {t.exit_reason for t in paper} == {"signal", "stop_loss", "take_profit"}


async def test_bot_on_a_mirror_of_a_basket_trades_as_the_basket_backtest(tmp_path: Path) -> None:
    # Arrange: three markets on one timeline at the exchange, one wallet at the mirror
    files = {s: p for s, p in write_basket(tmp_path).items() if s in BASKET}
    config = basket_config(**{"trading.symbols": list(BASKET), "risk.max_open_positions": 3})
    exchange = SandboxConfig(
        port=0, data_files=files, start_index=60, spread_bps=Decimal(0),
        level_notional=Decimal(BIG), weight_limit_1m=BIG,
    )  # fmt: skip
    async with (
        SandboxServer(exchange) as binance,
        SandboxServer(mirror_of(binance, config, tmp_path)) as b,
    ):
        bot = make_bot(b, tmp_path, config=config)
        try:
            await bot.start()
            # Act: each close of the exchange is a bar of every market at the mirror
            for _ in range(100):
                await binance.advance(1)
                assert await b.follow_source() == len(BASKET)
                await bot.step()
            paper = list(bot.engine.trades)
            live = {s: b.current_candle(s).ts_ms for s in BASKET}
        finally:
            await bot.close()
    candles = {s: seen_bars(load_candles(files[s]), live[s]) for s in BASKET}
    start_ts = int(load_candles(files["BTC/USDT"])["ts_ms"].iloc[60])
    result, _ = simulate_basket(config, BasketData(candles, config, "parity", start_ts))
    # Assert
    assert trade_differences(paper, result.trades) == []
    assert {t.symbol for t in paper} == set(BASKET)
    assert len(paper) >= 10, "the window must hold enough trades to mean something"
