"""Backtest and paper trading on the same candles make the same trades at the same prices.

The paper side is the real path: TradingBot → CcxtConnector → unmodified ccxt → HTTP on
127.0.0.1 → the sandbox exchange replaying the bundled candles one bar at a time. The
backtest side is Backtester → SimulatedExchange over the same file. Only the clock differs.
"""

from __future__ import annotations

from pathlib import Path

from tradebot.backtest.session import simulate
from tradebot.config import Config, load_config, with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.domain.portfolio import Trade
from tradebot.orchestrator.paper import PaperSetup, paper_session

SAMPLE = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
START = 400
BARS = 700
HOUR_MS = 3_600_000


def _backtest_trades(config: Config) -> list[Trade]:
    candles = load_candles(SAMPLE).iloc[: START + BARS + 1].reset_index(drop=True)
    result, _ = simulate(config, candles, start_index=START)
    return result.trades


async def _paper_trades(config: Config, tmp_path: Path) -> list[Trade]:
    setup = PaperSetup(
        data_file=SAMPLE, start_index=START, database_url=f"sqlite:///{tmp_path / 'paper.db'}"
    )
    async with paper_session(config, setup) as session:
        await session.replay(BARS)
        return list(session.bot.engine.trades)


def _bar(ts_ms: int) -> int:
    return ts_ms // HOUR_MS


async def _assert_same_trades(config: Config, tmp_path: Path) -> list[Trade]:
    # Act
    paper = await _paper_trades(config, tmp_path)
    backtest = _backtest_trades(config)
    # Assert
    assert len(paper) >= 5, "the window must hold enough trades to mean something"
    assert len(paper) == len(backtest)
    for p, b in zip(paper, backtest, strict=True):
        assert (_bar(p.entry_ts_ms), p.entry_price, p.qty) == (
            _bar(b.entry_ts_ms),
            b.entry_price,
            b.qty,
        )
        assert (_bar(p.exit_ts_ms), p.exit_price, p.exit_reason) == (
            _bar(b.exit_ts_ms),
            b.exit_price,
            b.exit_reason,
        )
        assert p.pnl == b.pnl
    return paper


async def test_paper_vs_backtest_default_config_same_trades_same_prices(tmp_path: Path) -> None:
    # Arrange: the built-in default (EMA 12/26, 2×ATR stop, fixed-fractional sizing)
    config = load_config(None)
    # Act / Assert
    trades = await _assert_same_trades(config, tmp_path)
    assert {t.exit_reason for t in trades} == {"signal", "stop_loss"}


async def test_paper_vs_backtest_stop_and_take_profit_oco_same_trades(tmp_path: Path) -> None:
    # Arrange: the stop and the take-profit rest together as one OCO list on the venue
    config = with_overrides(
        load_config(None),
        {"risk.take_profit_method": "r_multiple", "risk.take_profit_r": 1.5},
        "test",
    )
    # Act / Assert
    trades = await _assert_same_trades(config, tmp_path)
    assert {"take_profit", "stop_loss"} <= {t.exit_reason for t in trades}
