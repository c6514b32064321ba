"""The candles a backtest runs on, and the market and timeframe they are traded as.

Defaults must not change results silently, so this is where the config meets the data:

* The market and timeframe come from the file (``tradebot.data.identity``) unless the user
  chose them (``--symbol``/``--timeframe``, or their own config file sets them); a choice the
  file contradicts is an error naming both, never a DOGE file traded with BTC's price step.
* A chosen timeframe that is a whole multiple of the file's is reached by resampling
  (causal, bins labelled by their start, incomplete edge bins dropped: ``data.resample``);
  a finer or unrelated one is refused. No repair is ever offered for a timeframe mismatch:
  dropping "misaligned" rows of a 5m file would backtest one 5-minute candle per hour as 1h.
* Without ``backtest.start``/``end`` the whole file is used; a window that leaves out part of
  the file is reported, as are windows too short for the warm-up or for meaningful metrics.
* ``backtest.trade_from``/``warmup_bars`` say where trading starts (``trading_start``): the
  bars before it only warm the indicators up, as the history a live bot fetches at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import pandas as pd

from tradebot.config import Config, with_overrides
from tradebot.data.frame import fmt_ts, slice_ms
from tradebot.data.identity import FileIdentity, identify
from tradebot.data.load import list_samples, read_candle_file, sample_path
from tradebot.data.repair import enforce
from tradebot.data.resample import resample
from tradebot.domain.errors import ConfigError, DataError
from tradebot.domain.market import timeframe_to_ms

_SAMPLES = {
    ("BTC/USDT", "1h"): "binance_BTC-USDT_1h_2024.csv.gz",
    ("BTC/USDT", "1m"): "binance_BTC-USDT_1m_2024-12.csv.gz",
    ("ETH/USDT", "1h"): "binance_ETH-USDT_1h_2024Q4.csv.gz",
}
MIN_METRIC_BARS = 100
"""Bars after the warm-up below which the metrics are noise (and say so)."""
MIN_METRIC_DAYS = 30.0
"""Days below which annualised figures mislead (a day's −0.5 % annualises to −84 %)."""
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Chosen:
    """Where the user chose the market and the timeframe, for messages; None: not chosen.

    What is not chosen is a default the data file may replace. The library default treats
    the config as chosen; ``tradebot backtest`` on the built-in config chooses nothing.
    """

    symbol: str | None = "trading.symbol"
    timeframe: str | None = "trading.timeframe"


CONFIG_CHOSEN = Chosen()
NOTHING_CHOSEN = Chosen(None, None)


@dataclass(frozen=True, slots=True)
class BacktestData:
    """Candles ready to backtest, the config they are traded under, and what to tell the user."""

    candles: pd.DataFrame
    source: str
    config: Config
    notes: tuple[str, ...] = ()
    start_index: int = 0
    """The first bar traded; the bars before it only warm the indicators up."""


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


def load_backtest_data(
    config: Config, store: str | None = None, chosen: Chosen = CONFIG_CHOSEN
) -> BacktestData:
    """Candles of the configured window from a candle store, ``backtest.data`` or the sample.

    Raises:
        ConfigError: the file contradicts a choice, its market cannot be told, the timeframe
            cannot be reached from the file's, or the window holds no candles.
        DataError: the file is unreadable or its data is not tradeable.
    """
    if store is not None:
        return _from_store(config, store)
    bt = config.backtest
    source: Path | Traversable = (
        bt.data
        if bt.data is not None
        else bundled_sample(config.trading.symbol, config.trading.timeframe)
    )
    whole = read_candle_file(source)
    if whole.empty:
        raise DataError(f"{source}: no candles in the file (a header only?)")
    found = identify(source.name, whole["ts_ms"].to_numpy(np.int64))
    if found.disagreement:
        raise DataError(found.disagreement)
    symbol = _symbol(config, found, chosen)
    file_tf = found.timeframe or config.trading.timeframe
    target_tf = config.trading.timeframe if chosen.timeframe else file_tf
    notes: list[str] = []
    if symbol != config.trading.symbol and not chosen.symbol:
        notes.append(f"market {symbol} from the file name {found.name}")
    if found.timeframe and not chosen.timeframe and target_tf != config.trading.timeframe:
        notes.append(f"timeframe {target_tf} from the file's timestamps")
    frame = slice_ms(whole, bt.start_ts_ms, bt.end_ts_ms)
    if frame.empty:
        raise ConfigError(
            f"no candles in {source} between backtest.start={bt.start} and backtest.end={bt.end}"
            f" (the file spans {_span(whole)}): widen the range or leave it out to use the "
            "whole file"
        )
    frame = enforce(frame, file_tf, bt.data_repair, source=str(source))
    if target_tf != file_tf:
        frame = _resampled(frame, file_tf, target_tf, chosen, source)
    frame, start_index, start_notes = trading_start(frame, config)
    notes.extend(_window_note(whole, frame, config))
    if target_tf != file_tf:
        notes.append(
            f"resampled {file_tf} candles to {target_tf} (bins labelled by their start; "
            "incomplete first and last bins dropped)"
        )
    notes.extend(start_notes)
    updates = {"trading.symbol": symbol, "trading.timeframe": target_tf}
    if (symbol, target_tf) != (config.trading.symbol, config.trading.timeframe):
        config = with_overrides(config, updates, f"the data file {found.name}")
    return BacktestData(frame, str(source), config, tuple(notes), start_index)


def trading_start(frame: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, int, list[str]]:
    """Where trading starts in ``frame``, the frame cut to the warm-up asked for, and notes.

    ``backtest.trade_from`` alone: trading starts at the first bar at or after it and every
    earlier bar of the frame warms up, so the indicators there equal a run over the whole
    frame's. ``warmup_bars`` alone: the first that many bars warm up. Both: trading starts at
    ``trade_from`` after at most ``warmup_bars`` bars of warm-up (the frame is cut before
    them), as a live bot that fetched that much history at start.

    Raises:
        ConfigError: no bar is at or after ``trade_from``, or the frame holds no bar after
            the warm-up.
    """
    bt = config.backtest
    ts = frame["ts_ms"].to_numpy(np.int64)
    if bt.trade_from_ts_ms is None and bt.warmup_bars is None:
        return frame, 0, []
    span = _span(frame)
    if bt.trade_from_ts_ms is None:
        start = bt.warmup_bars or 0
        if start >= len(frame):
            raise ConfigError(
                f"--warmup-bars {start} leaves no bar to trade: the data has {len(frame):,} "
                f"bars ({span}); use fewer warm-up bars or more data"
            )
    else:
        start = int(np.searchsorted(ts, bt.trade_from_ts_ms))
        if start >= len(frame):
            raise ConfigError(
                f"no bar at or after trade_from={fmt_ts(bt.trade_from_ts_ms)}: the data spans "
                f"{span}; pick an earlier --trade-from"
            )
        if bt.warmup_bars is not None and start > bt.warmup_bars:
            frame = frame.iloc[start - bt.warmup_bars :].reset_index(drop=True)
            start = bt.warmup_bars
    first_ms = int(frame["ts_ms"].to_numpy(np.int64)[start])
    notes = [
        f"trading from {fmt_ts(first_ms)} (bar {start:,} of the data); the {start:,} bars "
        "before it only warm the indicators up"
    ]
    if bt.warmup_bars is not None and start < bt.warmup_bars:
        notes.append(f"only {start:,} bars before the start to warm up, not {bt.warmup_bars:,}")
    return frame, start, notes


def _window_note(whole: pd.DataFrame, frame: pd.DataFrame, config: Config) -> list[str]:
    """Say how much of the file a window (or a warm-up before --trade-from) leaves out."""
    bt = config.backtest
    if bt.trade_from is not None and bt.warmup_bars is not None:
        kept = slice_ms(whole, int(frame["ts_ms"].to_numpy(np.int64)[0]), bt.end_ts_ms)
        leave_out = "--warmup-bars and --end"
        end = "the end" if bt.end is None else bt.end.date().isoformat()
        window = f"{bt.warmup_bars:,} bars before --trade-from, to {end},"
    else:
        kept = slice_ms(whole, bt.start_ts_ms, bt.end_ts_ms)
        leave_out = "--start/--end"
        window = f"the window {_window(config)}"
    if len(kept) == len(whole):
        return []
    return [
        f"{window} keeps {len(kept):,} of the file's {len(whole):,} bars ({_span(whole)}); "
        f"leave out {leave_out} to use them all"
    ]


def short_window_notes(
    n_bars: int, ts_ms: np.ndarray, warmup_bars: int, strategy: str
) -> list[str]:
    """Warnings for a backtest too short for its strategy's warm-up or for metrics."""
    if n_bars <= warmup_bars:
        return [
            f"only {n_bars:,} bars, but {strategy} needs {warmup_bars:,} bars of warm-up before "
            "its first signal: it cannot trade; widen the window"
        ]
    span_days = (int(ts_ms[-1]) - int(ts_ms[0])) / _DAY_MS if n_bars > 1 else 0.0
    trading = n_bars - warmup_bars
    if trading < MIN_METRIC_BARS or span_days < MIN_METRIC_DAYS:
        after = f" after the {warmup_bars:,}-bar warm-up" if warmup_bars else " traded"
        return [
            f"only {trading:,} bars{after}, over {span_days:.1f} days: too few for meaningful "
            f"metrics (annualised figures from under {MIN_METRIC_DAYS:g} days or "
            f"{MIN_METRIC_BARS} bars mislead); widen the window"
        ]
    return []


def _symbol(config: Config, found: FileIdentity, chosen: Chosen) -> str:
    configured = config.trading.symbol
    if found.symbol is None:
        if chosen.symbol is None:
            raise ConfigError(
                f"cannot tell which market {found.name} holds (its name states none): pass "
                "--symbol BASE/QUOTE, or name the file like DOGEUSDT-1h.csv; its market sets "
                "the price step and lot size the backtest rounds to"
            )
        return configured
    if chosen.symbol is not None and found.symbol != configured:
        raise ConfigError(
            f"{found.name} holds {found.symbol} (from its name) but {chosen.symbol} says "
            f"{configured}: pass --symbol {found.symbol}, or use the file of {configured}"
        )
    return found.symbol


def _resampled(
    frame: pd.DataFrame,
    file_tf: str,
    target_tf: str,
    chosen: Chosen,
    source: Path | Traversable,
) -> pd.DataFrame:
    file_ms, target_ms = timeframe_to_ms(file_tf), timeframe_to_ms(target_tf)
    if target_ms < file_ms or target_ms % file_ms:
        raise ConfigError(
            f"{source} holds {file_tf} candles but {chosen.timeframe} says {target_tf}: use "
            f"--timeframe {file_tf}, or a whole multiple of it (e.g. "
            f"{_multiple(file_tf)}) to resample; finer candles cannot be made from coarser ones"
        )
    out = resample(frame, target_tf, file_tf)
    if out.empty:
        raise ConfigError(
            f"{source}: its {len(frame):,} {file_tf} candles do not fill one whole {target_tf} "
            "candle; use a longer file or a smaller --timeframe"
        )
    return out


def _multiple(timeframe: str) -> str:
    step = timeframe_to_ms(timeframe)
    for candidate in ("5m", "15m", "1h", "4h", "1d", "1w"):
        if timeframe_to_ms(candidate) > step and timeframe_to_ms(candidate) % step == 0:
            return f"--timeframe {candidate}"
    return f"--timeframe {2 * int(timeframe[:-1])}{timeframe[-1]}"


def _from_store(config: Config, store: str) -> BacktestData:
    bt, symbol, timeframe = config.backtest, config.trading.symbol, config.trading.timeframe
    first_ms = bt.start_ts_ms
    if bt.trade_from_ts_ms is not None and bt.warmup_bars is not None:
        first_ms = bt.trade_from_ts_ms - bt.warmup_bars * timeframe_to_ms(timeframe)
    from tradebot.data.store import CandleStore  # SQLAlchemy: only a backtest from a store

    stored = CandleStore(store).read(symbol, timeframe, first_ms, bt.end_ts_ms)
    label = f"store {Path(store).name if '://' not in store else 'database'}"
    if stored.empty:
        raise ConfigError(
            f"the candle store {label} has no {symbol} {timeframe} candles between "
            f"backtest.start={bt.start} and backtest.end={bt.end}: run `tradebot download "
            f"--symbols {symbol} --timeframes {timeframe}` first, or widen the range"
        )
    frame = enforce(stored, timeframe, bt.data_repair, source=label)
    frame, start_index, notes = trading_start(frame, config)
    return BacktestData(frame, label, config, tuple(notes), start_index)


def _span(frame: pd.DataFrame) -> str:
    ts = frame["ts_ms"].to_numpy(np.int64)
    return f"{fmt_ts(int(ts.min()))} → {fmt_ts(int(ts.max()))}" if ts.size else "no rows"


def _window(config: Config) -> str:
    bt = config.backtest
    start = "the start" if bt.start is None else bt.start.date().isoformat()
    end = "the end" if bt.end is None else bt.end.date().isoformat()
    return f"{start} → {end}"
