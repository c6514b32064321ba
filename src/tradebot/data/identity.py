"""What a candle file holds: the market from its name, the timeframe from its name and timestamps.

A candle file carries no symbol column, so a file run without ``--symbol`` used to be traded
as the config's BTC/USDT with BTC's price step: a DOGE file at 0.39 got 0.01 price rounding
and different trades. The names traders' files come with say what they hold:

* Binance public data: ``BTCUSDT-1h-2024-01.csv``
* this project and ``../shared/data``: ``binance_BTC-USDT_1h_2024.csv.gz``
* ccxt and freqtrade: ``BTC_USDT-1h.csv``, ``BTC-USDT_5m.parquet``

The timestamps say the timeframe too (the median step between rows); when the name and the
timestamps disagree the file is refused, naming both, because one of them is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tradebot.data.frame import IntArray, infer_timeframe, timeframe_from_name
from tradebot.domain.market import timeframe_to_ms

# Quote currencies a concatenated name (BTCUSDT) can end with, longest first so FDUSD wins
# over USD; a separated name (BTC-USDT, BTC_USDT) needs no list.
QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "EUR", "USD", "TRY", "BTC", "ETH", "BNB")
_FILE_SUFFIX = re.compile(r"(\.csv\.gz|\.csv|\.parquet)$", re.IGNORECASE)
_EDGE = r"(?:^|(?<=[_.\-\s]))"
_END = r"(?=[_.\-\s]|$)"
# a lookahead, so overlapping candidates are all seen: binance_BTC-USDT holds BINANCE_BTC too
_SEPARATED = re.compile(
    _EDGE + r"(?=([A-Za-z0-9]{2,12})[-_/]([A-Za-z]{2,6})" + _END + ")",
)
_JOINED = re.compile(
    _EDGE + r"([A-Za-z0-9]{2,12}?)(" + "|".join(QUOTES) + r")" + _END,
    re.IGNORECASE,
)
_QUOTE_SET = frozenset(QUOTES)
# venue prefixes of file names, never a base currency
_VENUES = frozenset(
    {
        *("BINANCE", "BINANCEUS", "BYBIT", "OKX", "KRAKEN", "COINBASE", "KUCOIN", "BITFINEX"),
        *("BITSTAMP", "GATEIO", "GATE", "HUOBI", "HTX", "MEXC", "BITGET"),
    }
)


def symbol_from_name(name: str) -> str | None:
    """The CCXT symbol a candle file's name states (``DOGEUSDT-1h.csv`` → ``DOGE/USDT``), if any.

    Only a known quote currency counts, so ``binance_2024-01.csv`` or ``my_data.csv`` state
    nothing rather than a made-up market.
    """
    stem = _FILE_SUFFIX.sub("", name)
    for match in _SEPARATED.finditer(stem):
        base, quote = match.group(1).upper(), match.group(2).upper()
        if quote in _QUOTE_SET and base not in _VENUES and not base.isdigit():
            return f"{base}/{quote}"
    for match in _JOINED.finditer(stem):
        base, quote = match.group(1).upper(), match.group(2).upper()
        if base not in _VENUES and not base.isdigit():
            return f"{base}/{quote}"
    return None


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What a candle file says it holds; None where it says nothing."""

    name: str
    symbol: str | None
    name_timeframe: str | None
    data_timeframe: str | None

    @property
    def timeframe(self) -> str | None:
        """The timeframe of the rows: the timestamps' when they tell, else the name's."""
        return self.data_timeframe or self.name_timeframe

    @property
    def disagreement(self) -> str | None:
        """Why the name and the timestamps contradict each other, if they do."""
        name_tf, data_tf = self.name_timeframe, self.data_timeframe
        if name_tf and data_tf and timeframe_to_ms(name_tf) != timeframe_to_ms(data_tf):
            return (
                f"{self.name}: the name says {self.name_timeframe} candles but the timestamps are "
                f"{self.data_timeframe} apart; rename the file or check its contents"
            )
        return None


def identify(name: str, ts_ms: IntArray) -> FileIdentity:
    """Read the symbol and timeframe a candle file of ``name`` with these timestamps holds."""
    data_tf = infer_timeframe(np.asarray(ts_ms, dtype=np.int64)) if len(ts_ms) > 1 else None
    return FileIdentity(name, symbol_from_name(name), timeframe_from_name(name), data_tf)
