"""The candles of a basket backtest: one file per symbol (listed, or found in a folder), the
candle store, or the bundled samples, each loaded exactly as a single-symbol backtest loads
its file (market from the name, window, repair, resample, warm-up).

Which file is which market comes from the file name (``tradebot.data.identity``), so
``../shared/data``-style names (``binance_ETH-USDT_1h.csv.gz``) need no flags. In a folder,
the files of the configured timeframe whose market is in ``trading.symbols`` are taken (every
market there when ``trading.symbols`` is not set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tradebot.backtest.dataset import CONFIG_CHOSEN, BacktestData, Chosen, load_backtest_data
from tradebot.config import Config, with_overrides
from tradebot.data.frame import timeframe_from_name
from tradebot.data.identity import symbol_from_name
from tradebot.data.load import CANDLE_SUFFIXES
from tradebot.domain.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BasketData:
    """Each symbol's candles (in trading order), the config they trade under, and notes."""

    candles: dict[str, pd.DataFrame]
    config: Config
    source: str
    start_ts_ms: int | None
    """The first bar traded; earlier bars only warm the indicators up (None: all trade)."""
    notes: tuple[str, ...] = ()


def is_basket(config: Config, files: Sequence[Path]) -> bool:
    """True when the backtest trades several symbols (or is given several files, a folder)."""
    return len(config.trading.all_symbols) > 1 or len(files) > 1 or any(f.is_dir() for f in files)


def load_basket_data(
    config: Config,
    files: Sequence[Path] = (),
    store: str | None = None,
    chosen: Chosen = CONFIG_CHOSEN,
) -> BasketData:
    """One frame per symbol of the basket.

    Raises:
        ConfigError: a listed market has no file, a file holds a market not listed, two
            files hold one market, or the files' timeframes differ.
    """
    wanted = config.trading.symbols
    single = {"trading.symbols": None}
    loaded: list[BacktestData] = []
    if files:
        paths = _expand(files, wanted, config.trading.timeframe)
        file_chosen = Chosen(None, chosen.timeframe)
        for path in paths:
            one = with_overrides(config, {**single, "backtest.data": str(path)}, str(path))
            loaded.append(load_backtest_data(one, None, file_chosen))
    else:
        for symbol in config.trading.all_symbols:
            one = with_overrides(config, {**single, "trading.symbol": symbol}, "trading.symbols")
            loaded.append(load_backtest_data(one, store, chosen))
    by_symbol: dict[str, BacktestData] = {}
    for data in loaded:
        symbol = data.config.trading.symbol
        if symbol in by_symbol:
            raise ConfigError(
                f"two files hold {symbol}: {by_symbol[symbol].source} and {data.source}; "
                "pass one file per market"
            )
        by_symbol[symbol] = data
    order = list(wanted) if wanted else list(by_symbol)
    missing = [s for s in order if s not in by_symbol]
    extra = [s for s in by_symbol if s not in order]
    if missing or extra:
        raise ConfigError(
            f"trading.symbols lists {', '.join(order)}; "
            + (f"no candle file for {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"files for {', '.join(extra)}, which it does not list" if extra else "")
            + ": pass one file per listed market (--data repeated, or a folder)"
        )
    timeframes = {s: d.config.trading.timeframe for s, d in by_symbol.items()}
    if len(set(timeframes.values())) > 1:
        found = ", ".join(f"{s} {tf}" for s, tf in timeframes.items())
        raise ConfigError(f"the basket's files differ in timeframe ({found}): use one timeframe")
    first = by_symbol[order[0]]
    updates: dict[str, object] = {
        "trading.symbols": order,
        "trading.timeframe": first.config.trading.timeframe,
    }
    traded = with_overrides(config, updates, "the basket's files")
    starts = [
        int(d.candles["ts_ms"].to_numpy(np.int64)[d.start_index])
        for d in by_symbol.values()
        if d.start_index
    ]
    notes = tuple(f"{s}: {note}" for s in order for note in by_symbol[s].notes)
    return BasketData(
        {s: by_symbol[s].candles for s in order},
        traded,
        ", ".join(by_symbol[s].source for s in order),
        min(starts) if starts else None,
        notes,
    )


def _expand(files: Sequence[Path], wanted: list[str] | None, timeframe: str) -> list[Path]:
    """The files given, a folder replaced by its candle files of the basket's markets at the
    configured timeframe (a name stating none is taken)."""
    out: list[Path] = []
    for path in files:
        if not path.is_dir():
            out.append(path)
            continue
        found = [
            p
            for p in sorted(path.iterdir())
            if p.name.endswith(CANDLE_SUFFIXES)
            and (wanted is None or symbol_from_name(p.name) in wanted)
            and timeframe_from_name(p.name) in (None, timeframe)
        ]
        if not found:
            raise ConfigError(
                f"{path}: no {timeframe} candle file of {', '.join(wanted or ['any market'])} "
                "in the folder (set trading.timeframe to the files' timeframe)"
            )
        out.extend(found)
    return out
