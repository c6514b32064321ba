"""Run a backtest as the config describes it: data, engine, simulated venue, report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pandas as pd

from tradebot.backtest.basket import BasketData, is_basket, load_basket_data
from tradebot.backtest.dataset import (
    CONFIG_CHOSEN,
    BacktestData,
    Chosen,
    load_backtest_data,
    short_window_notes,
    trading_start,
)
from tradebot.backtest.markets import backtest_market
from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.report.folders import link_latest, new_run_folder
from tradebot.backtest.report.writer import ReportPaths, write_report
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.runner import Backtester, ProgressCallback
from tradebot.config import Config, with_overrides
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.assembly import build_engine, starting_portfolio
from tradebot.orchestrator.engine import TradingEngine


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A finished backtest with its metrics and, when written, its report.

    ``notes`` are what the user must hear about the run (the market taken from the file
    name, a resample, a window that left bars out or is too short).
    """

    result: BacktestResult
    metrics: PerformanceMetrics
    report: ReportPaths | None
    data_source: str
    notes: tuple[str, ...] = ()


def simulate(
    config: Config,
    candles: pd.DataFrame,
    *,
    start_index: int = 0,
    every_bar: bool = False,
    progress: ProgressCallback | None = None,
    keep_records: bool = True,
) -> tuple[BacktestResult, TradingEngine]:
    """Run the configured engine over ``candles`` against a ``SimulatedExchange``.

    The one place a backtest is assembled (market rules, starting cash, fees, slippage), so
    the CLI, the demo and the parity tests simulate exactly alike. Bars before
    ``start_index`` only warm the indicators up; without ``keep_records`` the result has no
    decisions and no fills (``Backtester``). Returns the engine too, for its ledger.
    """
    market = backtest_market(config.trading.symbol, candles["close"].to_numpy())
    cash = Decimal(config.trading.starting_cash)
    engine = build_engine(config, market, Portfolio.with_cash(cash), record_holds=False)
    fees = FeeSchedule(
        maker=Decimal(repr(config.backtest.maker_fee_rate)),
        taker=Decimal(repr(config.backtest.fee_rate)),
    )
    exchange = SimulatedExchange(
        [market], {market.quote: cash}, fees, Decimal(repr(config.backtest.slippage_bps))
    )
    backtester = Backtester(
        engine, exchange, every_bar=every_bar, progress=progress, keep_records=keep_records
    )
    return backtester.run(candles, start_index=start_index), engine


def simulate_basket(
    config: Config,
    data: BasketData,
    *,
    every_bar: bool = False,
    progress: ProgressCallback | None = None,
) -> tuple[BacktestResult, TradingEngine]:
    """Run the configured engine over every symbol of ``data`` on one simulated account."""
    markets = [backtest_market(s, f["close"].to_numpy()) for s, f in data.candles.items()]
    portfolio = starting_portfolio(config)
    cash = portfolio.cash  # one simulated account holds every venue's (each sizes on its own)
    engine = build_engine(
        config, markets[0], portfolio, record_holds=False, more_markets=markets[1:]
    )
    fees = FeeSchedule(
        maker=Decimal(repr(config.backtest.maker_fee_rate)),
        taker=Decimal(repr(config.backtest.fee_rate)),
    )
    exchange = SimulatedExchange(
        markets, {markets[0].quote: cash}, fees, Decimal(repr(config.backtest.slippage_bps))
    )
    backtester = Backtester(engine, exchange, every_bar=every_bar, progress=progress)
    return backtester.run_portfolio(data.candles, data.start_ts_ms), engine


def run_backtest(
    config: Config,
    *,
    files: Sequence[Path] = (),
    candles: pd.DataFrame | None = None,
    report_dir: Path | None = None,
    every_bar: bool = False,
    progress: ProgressCallback | None = None,
    store: str | None = None,
    chosen: Chosen = CONFIG_CHOSEN,
    report_root: Path | None = None,
) -> BacktestRun:
    """Backtest the configured strategy; write the report folder when asked.

    ``report_dir`` is the folder itself; ``report_root`` gets a new folder per run, named
    by strategy, market, timeframe and time, and a ``latest`` link to it. ``chosen`` says
    which of the config's market and timeframe the user chose; the others are taken from
    the data file (see ``tradebot.backtest.dataset``). Several symbols (``trading.symbols``,
    several ``files`` or a folder) make a basket backtest on one account
    (``tradebot.backtest.basket``).
    """
    if candles is None and is_basket(config, files):
        basket = load_basket_data(config, files, store, chosen)
        result, _ = simulate_basket(basket.config, basket, every_bar=every_bar, progress=progress)
        result = _with_settings(result, basket.config, 0)
        return _finish(result, basket.source, basket.notes, report_dir, report_root)
    if candles is None:
        if files:
            config = with_overrides(config, {"backtest.data": str(files[0])}, "--data")
        data = load_backtest_data(config, store, chosen)
    else:
        frame, start_index, start_notes = trading_start(candles, config)
        data = BacktestData(frame, "given frame", config, tuple(start_notes), start_index)
    config, start = data.config, data.start_index
    result, engine = simulate(
        config, data.candles, start_index=start, every_bar=every_bar, progress=progress
    )
    result = _with_settings(result.from_bar(start), config, start)
    warmup_left = max(engine.strategy.warmup_bars - start, 0)
    notes = (
        *data.notes,
        *short_window_notes(result.n_bars, result.ts_ms, warmup_left, result.strategy_name),
    )
    return _finish(result, data.source, notes, report_dir, report_root)


def _finish(
    result: BacktestResult,
    source: str,
    notes: tuple[str, ...],
    report_dir: Path | None,
    report_root: Path | None,
) -> BacktestRun:
    metrics = compute_metrics(result)
    paths = report_run(result, metrics, report_dir, report_root)
    return BacktestRun(result, metrics, paths, source, notes)


def report_run(
    result: BacktestResult,
    metrics: PerformanceMetrics,
    report_dir: Path | None,
    report_root: Path | None,
) -> ReportPaths | None:
    """Write the report into ``report_dir``, or into a new folder in ``report_root`` (named
    by strategy, market, timeframe and time; ``latest`` then links to it); None: neither."""
    if report_root is not None:
        report_dir = new_run_folder(
            report_root, result.strategy_name, result.symbol, result.timeframe
        )
    paths = write_report(result, metrics, report_dir) if report_dir is not None else None
    if report_root is not None and report_dir is not None:
        link_latest(report_root, report_dir)
    return paths


def _with_settings(result: BacktestResult, config: Config, warmup_bars: int) -> BacktestResult:
    settings = dict(result.settings)
    settings.update(
        warmup_bars=warmup_bars,
        fee_rate=config.backtest.fee_rate,
        slippage_bps=config.backtest.slippage_bps,
        sizing=config.risk.position_sizing_method,
        stop_loss=config.risk.stop_loss_method,
        starting_cash=float(config.trading.starting_cash),
    )
    return replace(result, settings=settings)
