"""The crash soak's markets: BTC/USDT and markets derived from it, on one timeline.

BTC/USDT is the bundled 1m sample (December 2024) as it is. Each further market is the
same month started at another week (the weeks before it appended, levelled to join without
a gap), relabelled onto BTC's timestamps and scaled to that market's price range, rounded
to its Binance tick (0.01). Its bars then move unlike BTC's at the same minute, so the
markets' signals, fills and stops fall on different bars and the soak's kills land between
one symbol's orders and another's. Every file covers the whole month: no market runs out
of data before BTC does. Nothing here needs ``../shared``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradebot.data.load import load_candles

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "src/tradebot/data/samples/binance_BTC-USDT_1m_2024-12.csv.gz"
)
WEEK_BARS = 7 * 24 * 60
MARKETS = (
    ("BTC/USDT", 0, 1.0),
    ("ETH/USDT", WEEK_BARS, 0.036),  # about 3,500
    ("SOL/USDT", 2 * WEEK_BARS + 120, 0.002),  # about 200
    ("BNB/USDT", 3 * WEEK_BARS, 0.007),  # about 700
)
"""Symbol, the sample's bar it starts at, price scale. Each is on Binance's 0.01 tick and has
its lot step in ``tradebot.domain.binance_spot``. The starts are about a week apart, picked
so that the soak's 3/8 EMA cross enters every market within its first ten bars of trading
(the short soak lives some thirty bars)."""
_PRICES = ("open", "high", "low", "close")


def soak_symbols(count: int) -> tuple[str, ...]:
    """The first ``count`` markets of ``MARKETS``.

    Raises:
        ValueError: ``count`` is below 1 or above the markets there are.
    """
    if not 1 <= count <= len(MARKETS):
        raise ValueError(f"--symbols {count}: choose 1 to {len(MARKETS)}")
    return tuple(symbol for symbol, _, _ in MARKETS[:count])


def write_markets(
    folder: Path, count: int, late_from: int = 0, sample: Path = SAMPLE
) -> dict[str, Path]:
    """One 1m candle file per market of ``soak_symbols(count)``, named as ``tradebot`` reads
    names (``binance_ETH-USDT_1m.csv``); BTC/USDT is ``sample`` itself.

    With ``late_from`` the last derived market's data starts at that bar of the timeline,
    as a new listing does: the sandbox lists it from then on.
    """
    symbols = soak_symbols(count)
    files: dict[str, Path] = {symbols[0]: sample}
    if count == 1:
        return files
    source = load_candles(sample)
    for symbol, start, scale in MARKETS[1:count]:
        path = folder / f"binance_{symbol.replace('/', '-')}_1m.csv"
        skip = late_from if symbol == symbols[-1] else 0
        _derived(source, start, scale).iloc[skip:].to_csv(path, index=False)
        files[symbol] = path
    return files


def _derived(source: pd.DataFrame, start: int, scale: float) -> pd.DataFrame:
    # The sample from bar ``start`` on, then its first ``start`` bars levelled to continue
    # from the last close, on the sample's timestamps, scaled and rounded to the 0.01 tick.
    later, earlier = source.iloc[start:], source.iloc[:start]
    level = later["close"].iloc[-1] / earlier["open"].iloc[0] if start else 1.0
    frame = pd.DataFrame({"timestamp": source["ts_ms"].to_numpy()})
    for column in _PRICES:
        prices = pd.concat([later[column], earlier[column] * level]).to_numpy()
        frame[column] = (prices * scale).round(2)
    volumes = pd.concat([later["volume"], earlier["volume"]]).to_numpy()
    frame["volume"] = (volumes / scale).round(5)  # about the same quote volume
    return frame
