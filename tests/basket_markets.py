"""Candle files of several markets on one timeline, cut from the bundled BTC/USDT 1h sample
(other months, scaled to other prices), so that their signals differ: for paper baskets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from tradebot.data.load import load_candles, sample_path

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
MARKETS = {"BTC/USDT": (0, 1.0), "ETH/USDT": (2_000, 0.05), "SOL/USDT": (4_000, 0.003)}
"""Each market's first row in the sample and its price scale."""


def market_file(folder: Path, symbol: str) -> Path:
    """Where ``write_markets`` puts ``symbol``'s file (named as tradebot reads names)."""
    return folder / f"binance_{symbol.replace('/', '-')}_1h.csv"


def write_markets(
    folder: Path, rows: int, markets: Mapping[str, tuple[int, float]] = MARKETS
) -> dict[str, Path]:
    """One file of ``rows`` 1h bars per market, all on the sample's first timestamps."""
    source = load_candles(BTC_1H)
    timeline = source["ts_ms"].to_numpy()[:rows]
    files = {}
    for symbol, (offset, scale) in markets.items():
        part = source.iloc[offset : offset + rows].reset_index(drop=True)
        frame = pd.DataFrame({"timestamp": timeline})
        for column in ("open", "high", "low", "close"):
            frame[column] = (part[column] * scale).round(2)  # on the markets' 0.01 tick
        frame["volume"] = part["volume"]
        files[symbol] = market_file(folder, symbol)
        frame.to_csv(files[symbol], index=False)
    return files
