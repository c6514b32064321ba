"""Backtest ↔ paper parity: paper-trade a candle file, backtest what it saw, compare trades.

The paper side is the real path: ``TradingBot`` → ``CcxtConnector`` → unmodified ccxt →
HTTP on 127.0.0.1 → the sandbox replaying the file one bar at a time. The backtest side is
``simulate`` (``Backtester`` → ``SimulatedExchange``) over the bars the paper session saw:
every bar that closed during the replay, then the bar it stands in as walked so far (its
open only, where the orders sent at the last close filled). Bars before ``start_index``
only warm the indicators up on both sides. Only the clock differs, so every trade must be
identical: timestamps, prices, quantities, fees, PnL and exit reason.

``tradebot demo``, ``tests/scenario/test_paper_parity.py`` and ``bench/parity.py`` (real
data from ../shared/data) all compare through here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from tradebot.backtest.basket import BasketData
from tradebot.backtest.session import simulate, simulate_basket
from tradebot.config import Config, with_overrides
from tradebot.data.load import load_candles
from tradebot.domain.portfolio import Trade
from tradebot.orchestrator.paper import PaperSetup, paper_session

ProgressCallback = Callable[[int, int], None]
QUICK_STRATEGY: dict[str, object] = {
    "strategy.name": "ema_crossover",
    "strategy.params": {"fast_period": 3, "slow_period": 8, "rsi_threshold": 100},
}
"""A 3/8 EMA cross without the RSI filter: busy enough that a few hundred bars hold trades."""
_STOP_PCT = {"1m": 0.002, "5m": 0.004}
COMPARED = tuple(f.name for f in fields(Trade))
"""Every field of a trade is compared: symbol, entry/exit time, qty, prices, fees, PnL, reason."""


def configurations(timeframe: str, bar_ms: int) -> dict[str, dict[str, object]]:
    """The four ways of trading parity covers, as config overrides of ``QUICK_STRATEGY``.

    ``stop``: a fixed stop; ``oco``: the stop and a take-profit resting as one OCO list;
    ``limit``: limit entries below the close that wait three bars, with the stop; ``trail``:
    a trailing stop moved every bar; ``limit_oco``: limit entries protected by the OCO list.
    Distances scale with the timeframe so that stops and targets are hit on 1m and 5m bars
    as on 1h bars.
    """
    pct = _STOP_PCT.get(timeframe, 0.01)
    stop: dict[str, object] = {"risk.stop_loss_method": "fixed_pct", "risk.stop_loss_pct": pct}
    target: dict[str, object] = {
        "risk.take_profit_method": "pct",
        "risk.take_profit_pct": 1.5 * pct,
    }
    limit: dict[str, object] = {
        "execution.order_type": "limit",
        "execution.limit_offset_bps": 2_000 * pct,
        "execution.limit_timeout_s": 3 * bar_ms // 1000,
    }
    return {
        "stop": stop,
        "oco": {**stop, **target},
        "limit": {**stop, **limit},
        "trail": {"risk.stop_loss_method": "trailing_pct", "risk.stop_loss_pct": pct},
        "limit_oco": {**stop, **target, **limit},
    }


def parity_config(base: Config, overrides: dict[str, object]) -> Config:
    """``base`` trading the quick strategy with one of ``configurations``."""
    return with_overrides(base, {**QUICK_STRATEGY, **overrides}, "parity")


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
    def differences(self) -> list[str]:
        """Every way the two trade lists differ, one line each (empty when identical)."""
        return trade_differences(self.paper_trades, self.backtest_trades)

    @property
    def identical(self) -> bool:
        """True when both made the same trades: times, prices, amounts, fees and reasons."""
        return not self.differences


def trade_differences(paper: Sequence[Trade], backtest: Sequence[Trade]) -> list[str]:
    """Name each field of each trade that differs, and trades only one side made."""
    out: list[str] = []
    for n, (p, b) in enumerate(zip(paper, backtest, strict=False), start=1):
        for name in COMPARED:
            pv, bv = getattr(p, name), getattr(b, name)
            if pv != bv:
                out.append(f"trade {n} {name}: paper {pv} backtest {bv}")
    for n, t in enumerate(paper[len(backtest) :], start=len(backtest) + 1):
        out.append(f"trade {n} only in paper: {_describe(t)}")
    for n, t in enumerate(backtest[len(paper) :], start=len(paper) + 1):
        out.append(f"trade {n} only in the backtest: {_describe(t)}")
    return out


def _describe(t: Trade) -> str:
    return (
        f"{t.qty} from {t.entry_ts_ms} at {t.entry_price} to {t.exit_ts_ms} at "
        f"{t.exit_price} ({t.exit_reason})"
    )


async def paper_vs_backtest(
    config: Config,
    data_file: Path,
    *,
    start_index: int = 400,
    bars: int = 1000,
    database_url: str = "sqlite:///:memory:",
    progress: ProgressCallback | None = None,
) -> PaperComparison:
    """Paper-trade ``bars`` bar steps of ``data_file`` from ``start_index``, then backtest
    the bars the paper session saw, starting to trade at the same bar.

    A step is one bar length of the file's timeframe: across a gap in the data the clock
    moves and no bar closes, as on the venue.
    """
    cash = Decimal(config.trading.starting_cash)
    setup = PaperSetup(
        data_files={config.trading.symbol: data_file},
        start_index=start_index,
        database_url=database_url,
        starting_cash=cash,
    )
    symbol = config.trading.symbol
    async with paper_session(config, setup) as session:
        await session.replay(bars, progress)
        engine = session.bot.engine
        live = session.server.current_candle(symbol)
        paper_equity = engine.portfolio.equity(
            {s: Decimal(repr(live.open)) for s in engine.portfolio.positions}
        )
        paper = list(engine.trades)
        stats = session.bot.stats
    candles = seen_bars(load_candles(data_file, repair="drop"), live.ts_ms)
    result, bt_engine = simulate(config, candles, start_index=start_index)
    last_open = Decimal(repr(live.open))
    backtest_equity = bt_engine.portfolio.equity(
        dict.fromkeys(bt_engine.portfolio.positions, last_open)
    )
    return PaperComparison(
        bars, paper, result.trades, paper_equity, backtest_equity, stats.orders_sent, stats.fills
    )


async def basket_paper_vs_backtest(
    config: Config,
    data_files: Mapping[str, Path],
    *,
    start_index: int = 400,
    bars: int = 1000,
    database_url: str = "sqlite:///:memory:",
) -> PaperComparison:
    """Paper-trade several symbols on one account in lock-step, then backtest the bars the
    session saw as a basket, trading from the same bar (``start_index`` of the first
    symbol's file; a symbol whose data starts later trades from its first bar on both
    sides). Trades are compared in the order they closed, those closing at one time by
    entry time and symbol: within one bar time the live shell books a market exit as its
    order is answered, the backtest at the next open, so their booking order may differ."""
    cash = Decimal(config.trading.starting_cash)
    setup = PaperSetup(
        data_files=data_files,
        start_index=start_index,
        database_url=database_url,
        starting_cash=cash,
    )
    symbols = config.trading.all_symbols
    async with paper_session(config, setup) as session:
        await session.replay(bars)
        engine = session.bot.engine
        live = {s: session.server_of(s).current_candle(s) for s in symbols}
        opens = {s: Decimal(repr(c.open)) for s, c in live.items()}
        paper_equity = engine.portfolio.equity(opens)
        paper = list(engine.trades)
        stats = session.bot.stats
        first = load_candles(data_files[symbols[0]], repair="drop")
        start_ts = int(first["ts_ms"].iloc[start_index])
    candles = {
        s: seen_bars(load_candles(data_files[s], repair="drop"), live[s].ts_ms) for s in symbols
    }
    data = BasketData(candles, config, "parity", start_ts)
    result, bt_engine = simulate_basket(config, data)
    backtest_equity = bt_engine.portfolio.equity(opens)
    return PaperComparison(
        bars,
        sorted(paper, key=_closing_order),
        sorted(result.trades, key=_closing_order),
        paper_equity,
        backtest_equity,
        stats.orders_sent,
        stats.fills,
    )


def _closing_order(trade: Trade) -> tuple[int, int, str]:
    return trade.exit_ts_ms, trade.entry_ts_ms, trade.symbol


def seen_bars(candles: pd.DataFrame, live_ts_ms: int) -> pd.DataFrame:
    """The bars a paper session standing in the bar opened at ``live_ts_ms`` has seen.

    Every earlier bar whole; the live bar as walked so far, its open only (high, low and
    close equal to it), so the backtest fills there what paper filled and nothing more.
    """
    ts = candles["ts_ms"].to_numpy(np.int64)
    end = int(np.searchsorted(ts, live_ts_ms, side="right"))
    seen = candles.iloc[:end].reset_index(drop=True)
    if end and int(ts[end - 1]) == live_ts_ms:
        opened = seen["open"].to_numpy(np.float64)[-1]
        for column in ("high", "low", "close"):
            values = seen[column].to_numpy(np.float64, copy=True)
            values[-1] = opened
            seen[column] = values
        volume = seen["volume"].to_numpy(np.float64, copy=True)
        volume[-1] = 0.0
        seen["volume"] = volume
    return seen
