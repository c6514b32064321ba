"""Run a backtest as the config describes it: data, engine, simulated venue, report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from tradebot.backtest.markets import backtest_market
from tradebot.backtest.metrics import PerformanceMetrics, compute_metrics
from tradebot.backtest.report.writer import ReportPaths, write_report
from tradebot.backtest.result import BacktestResult
from tradebot.backtest.runner import Backtester, ProgressCallback
from tradebot.config import Config
from tradebot.data.load import list_samples, load_candles, sample_path
from tradebot.data.repair import enforce
from tradebot.data.store import CandleStore
from tradebot.domain.errors import ConfigError
from tradebot.domain.portfolio import Portfolio
from tradebot.exchange.simulated import FeeSchedule, SimulatedExchange
from tradebot.orchestrator.assembly import build_engine
from tradebot.orchestrator.engine import TradingEngine

_SAMPLES = {
    ("BTC/USDT", "1h"): "binance_BTC-USDT_1h_2024.csv.gz",
    ("BTC/USDT", "1m"): "binance_BTC-USDT_1m_2024-12.csv.gz",
    ("ETH/USDT", "1h"): "binance_ETH-USDT_1h_2024Q4.csv.gz",
}


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A finished backtest with its metrics and, when written, its report."""

    result: BacktestResult
    metrics: PerformanceMetrics
    report: ReportPaths | None
    data_source: str


def bundled_sample(symbol: str, timeframe: str) -> Traversable:
    """The bundled sample file for ``symbol`` and ``timeframe``.

    Raises:
        ConfigError: no sample exists for that pair; the message lists what does.
    """
    name = _SAMPLES.get((symbol, timeframe))
    if name is None:
        raise ConfigError(
            f"no bundled sample for {symbol} {timeframe}: set backtest.data (or --data) to a "
            f"candle file; bundled samples: {', '.join(list_samples())}"
        )
    return sample_path(name)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def load_backtest_candles(config: Config, store: str | None = None) -> tuple[pd.DataFrame, str]:
    """Candles of the configured range from a candle store, ``backtest.data`` or the sample.

    ``store`` (a SQLite file or SQLAlchemy URL of ``tradebot download``'s store) is read by
    symbol, timeframe and date range; the same quality rules apply as to a file.
    """
    bt, symbol, timeframe = config.backtest, config.trading.symbol, config.trading.timeframe
    if store is not None:
        stored = CandleStore(store).read(symbol, timeframe, _ms(bt.start), _ms(bt.end))
        label = f"store {Path(store).name if '://' not in store else 'database'}"
        if stored.empty:
            raise ConfigError(
                f"the candle store {label} has no {symbol} {timeframe} candles between "
                f"backtest.start={bt.start} and backtest.end={bt.end}: run `tradebot download "
                f"--symbols {symbol} --timeframes {timeframe}` first, or widen the range"
            )
        return enforce(stored, timeframe, bt.data_repair, source=label), label
    source: Path | Traversable = (
        bt.data if bt.data is not None else bundled_sample(symbol, timeframe)
    )
    frame = load_candles(
        source, _ms(bt.start), _ms(bt.end), repair=bt.data_repair, timeframe=timeframe
    )
    if frame.empty:
        raise ConfigError(
            f"no candles in {source} between backtest.start={bt.start} and backtest.end="
            f"{bt.end}: widen the range or choose another file"
        )
    return frame, str(source)


def simulate(
    config: Config,
    candles: pd.DataFrame,
    *,
    start_index: int = 0,
    every_bar: bool = False,
    progress: ProgressCallback | None = None,
) -> tuple[BacktestResult, TradingEngine]:
    """Run the configured engine over ``candles`` against a ``SimulatedExchange``.

    The one place a backtest is assembled (market rules, starting cash, fees, slippage), so
    the CLI, the demo and the parity tests simulate exactly alike. Bars before
    ``start_index`` only warm the indicators up. Returns the engine too, for its ledger.
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
    backtester = Backtester(engine, exchange, every_bar=every_bar, progress=progress)
    return backtester.run(candles, start_index=start_index), engine


def run_backtest(
    config: Config,
    *,
    candles: pd.DataFrame | None = None,
    report_dir: Path | None = None,
    every_bar: bool = False,
    progress: ProgressCallback | None = None,
    store: str | None = None,
) -> BacktestRun:
    """Backtest the configured strategy; write the report folder when ``report_dir`` is set."""
    source = "given frame"
    if candles is None:
        candles, source = load_backtest_candles(config, store)
    result, _ = simulate(config, candles, every_bar=every_bar, progress=progress)
    result = _with_settings(result, config)
    metrics = compute_metrics(result)
    paths = write_report(result, metrics, report_dir) if report_dir is not None else None
    return BacktestRun(result, metrics, paths, source)


def _with_settings(result: BacktestResult, config: Config) -> BacktestResult:
    settings = dict(result.settings)
    settings.update(
        fee_rate=config.backtest.fee_rate,
        slippage_bps=config.backtest.slippage_bps,
        sizing=config.risk.position_sizing_method,
        stop_loss=config.risk.stop_loss_method,
        starting_cash=float(config.trading.starting_cash),
    )
    return replace(result, settings=settings)
