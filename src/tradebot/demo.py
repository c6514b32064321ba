"""The demo: a backtest and a paper-trading session on the bundled data, side by side.

It is the first thing a new user runs (``make demo``), so it shows the project's promise:
the paper session trades through the real I/O path (ccxt over HTTP to the local sandbox
exchange) and makes the same trades, at the same prices, as the backtest of the same bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradebot.backtest.dataset import bundled_sample
from tradebot.backtest.session import simulate
from tradebot.config import Config
from tradebot.data.load import load_candles
from tradebot.domain.portfolio import Trade
from tradebot.orchestrator.paper import PaperSetup, paper_session

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PaperComparison:
    """A paper session and the backtest of the same bars."""

    bars: int
    paper_trades: list[Trade]
    backtest_trades: list[Trade]
    paper_equity: Decimal
    backtest_equity: Decimal
    orders_sent: int
    fills: int

    @property
    def identical(self) -> bool:
        """True when both made the same trades at the same prices and amounts."""

        def key(t: Trade) -> tuple[object, ...]:
            return (t.entry_price, t.exit_price, t.qty, t.pnl, t.exit_reason)

        return [key(t) for t in self.paper_trades] == [key(t) for t in self.backtest_trades]


async def paper_vs_backtest(
    config: Config,
    *,
    start_index: int = 400,
    bars: int = 1000,
    database_url: str = "sqlite:///:memory:",
    progress: ProgressCallback | None = None,
) -> PaperComparison:
    """Paper-trade ``bars`` bars of the bundled sample, then backtest the same bars."""
    source = Path(str(bundled_sample(config.trading.symbol, config.trading.timeframe)))
    cash = Decimal(config.trading.starting_cash)
    setup = PaperSetup(
        data_file=source, start_index=start_index, database_url=database_url, starting_cash=cash
    )
    async with paper_session(config, setup) as session:
        await session.replay(bars, progress)
        engine = session.bot.engine
        close = session.server.current_candle(config.trading.symbol).open
        paper_equity = engine.portfolio.equity(
            {s: Decimal(repr(close)) for s in engine.portfolio.positions}
        )
        paper = list(engine.trades)
        stats = session.bot.stats
    candles = load_candles(source).iloc[: start_index + bars + 1].reset_index(drop=True)
    result, engine = simulate(config, candles, start_index=start_index)
    # marked at the open of the bar the paper session is in, as the paper side is
    last_open = Decimal(repr(float(candles["open"].iloc[-1])))
    backtest_equity = engine.portfolio.equity(dict.fromkeys(engine.portfolio.positions, last_open))
    return PaperComparison(
        bars, paper, result.trades, paper_equity, backtest_equity, stats.orders_sent, stats.fills
    )
