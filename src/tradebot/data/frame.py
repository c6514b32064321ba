"""The candle frame every data function takes and returns, and its conversions.

One layout everywhere (files, store, cache, backtests): a ``pandas.DataFrame`` with a plain
``RangeIndex`` and the columns ``ts_ms`` (int64, candle OPEN time, UTC epoch ms, as in CCXT),
``open``, ``high``, ``low``, ``close``, ``volume`` (float64). Row numbers in quality reports
are positions in this frame. ``ts_ms`` stays a column, not the index, so that numpy code can
take ``frame["ts_ms"].to_numpy()`` without a conversion and duplicates stay representable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradebot.domain.errors import DataError
from tradebot.domain.market import Candle, timeframe_to_ms

PRICE_COLUMNS = ("open", "high", "low", "close")
VALUE_COLUMNS = (*PRICE_COLUMNS, "volume")
CANDLE_COLUMNS = ("ts_ms", *VALUE_COLUMNS)

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]

# ccxt's weekly candles open on Monday; the epoch (1970-01-01) was a Thursday.
_WEEK_OFFSET_MS = 4 * 86_400_000
_TIMEFRAME_IN_NAME = re.compile(r"(?:^|(?<=[_.\-]))(\d+[smhdw])(?=[_.\-]|$)")


def empty_candles() -> pd.DataFrame:
    """Return a candle frame with no rows (and the right dtypes)."""
    return candles_from_arrays(np.empty(0, np.int64), *(np.empty(0) for _ in VALUE_COLUMNS))


def candles_from_arrays(
    ts_ms: npt.ArrayLike,
    open_: npt.ArrayLike,
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike,
) -> pd.DataFrame:
    """Build a candle frame from column arrays (copied into the canonical dtypes)."""
    data = {
        "ts_ms": np.asarray(ts_ms, dtype=np.int64),
        "open": np.asarray(open_, dtype=np.float64),
        "high": np.asarray(high, dtype=np.float64),
        "low": np.asarray(low, dtype=np.float64),
        "close": np.asarray(close, dtype=np.float64),
        "volume": np.asarray(volume, dtype=np.float64),
    }
    return pd.DataFrame(data, columns=list(CANDLE_COLUMNS))


def candles_to_frame(candles: Iterable[Candle]) -> pd.DataFrame:
    """Turn domain ``Candle`` values (e.g. from ``fetch_ohlcv``) into a candle frame."""
    rows = [(c.ts_ms, c.open, c.high, c.low, c.close, c.volume) for c in candles]
    if not rows:
        return empty_candles()
    cols = list(zip(*rows, strict=True))
    return candles_from_arrays(*cols)


def frame_to_candles(frame: pd.DataFrame) -> list[Candle]:
    """Turn a candle frame into domain ``Candle`` values, oldest first."""
    ts = frame["ts_ms"].to_numpy(np.int64).tolist()
    values = [frame[c].to_numpy(np.float64).tolist() for c in VALUE_COLUMNS]
    return [Candle(t, o, h, lo, c, v) for t, o, h, lo, c, v in zip(ts, *values, strict=True)]


def conform(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Return ``frame`` in the canonical layout, accepting ``timestamp`` for ``ts_ms``.

    Raises:
        DataError: a column is missing or cannot be converted to numbers.
    """
    if "ts_ms" not in frame.columns and "timestamp" in frame.columns:
        frame = frame.rename(columns={"timestamp": "ts_ms"})
    missing = [c for c in CANDLE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)}; a candle file needs the header "
            "timestamp,open,high,low,close,volume (timestamp = open time in UTC epoch ms)"
        )
    try:
        out = candles_from_arrays(*(frame[c].to_numpy() for c in CANDLE_COLUMNS))
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{source}: a column is not numeric ({exc}); fix or remove the bad row"
        ) from exc
    hint = timestamp_unit_hint(out["ts_ms"].to_numpy(np.int64))
    if hint is not None:
        raise DataError(f"{source}: {hint}")
    return out


def timestamp_unit_hint(ts_ms: IntArray) -> str | None:
    """What is wrong when timestamps are plainly not epoch milliseconds (seconds, microseconds).

    Epoch ms of any date since 1973 are above 1e11 and those before the year 5000 below 1e14;
    a file in seconds (1.7e9 for 2024) or microseconds (1.7e15, Binance's spot files since
    2025) would otherwise be "misaligned" or "1970" without a word on why.
    """
    if ts_ms.size == 0:
        return None
    typical = int(np.median(ts_ms))
    if 1e8 <= typical < 1e11:
        return (
            f"the timestamps look like seconds since the epoch ({typical} s = "
            f"{fmt_ts(typical * 1000)}), but the format needs milliseconds: multiply by 1000"
        )
    if typical >= 1e14:
        return (
            f"the timestamps look like microseconds since the epoch ({typical} µs = "
            f"{fmt_ts(typical // 1000)}), but the format needs milliseconds: divide by 1000"
        )
    return None


def timeframe_offset_ms(timeframe: str) -> int:
    """Return where bins of ``timeframe`` start relative to the epoch (Monday for weeks)."""
    return _WEEK_OFFSET_MS if timeframe.endswith("w") else 0


def bin_start(ts_ms: IntArray, timeframe: str) -> IntArray:
    """Return the open time of the ``timeframe`` bin holding each timestamp."""
    step = timeframe_to_ms(timeframe)
    offset = timeframe_offset_ms(timeframe)
    return ts_ms - (ts_ms - offset) % step


def timeframe_from_name(name: str) -> str | None:
    """Read the timeframe from a name like ``binance_BTC-USDT_1m.csv.gz`` or ``BTCUSDT-1h.csv``."""
    match = _TIMEFRAME_IN_NAME.search(name)
    return match.group(1) if match else None


def infer_timeframe(ts_ms: IntArray) -> str | None:
    """Guess the timeframe as the median positive step between timestamps (gaps are rare)."""
    steps = np.diff(np.unique(ts_ms[:100_000]))
    if steps.size == 0:
        return None
    step = int(np.median(steps))
    for unit, unit_ms in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if step % unit_ms == 0:
            return f"{step // unit_ms}{unit}"
    return f"{step // 1000}s" if step % 1000 == 0 and step > 0 else None


def utc(ts_ms: int) -> datetime:
    """Convert epoch ms to an aware UTC datetime."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC)


def fmt_ts(ts_ms: int) -> str:
    """Format epoch ms as ``YYYY-MM-DD HH:MM[:SS] UTC`` for messages."""
    moment = utc(ts_ms)
    pattern = "%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S"
    return moment.strftime(pattern) + " UTC"


def parse_time_ms(text: str) -> int:
    """Parse ``2024-01-01``, an ISO datetime (UTC unless it says otherwise) or epoch ms.

    Raises:
        ValueError: the text is none of those.
    """
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def slice_ms(frame: pd.DataFrame, start_ms: int | None, end_ms: int | None) -> pd.DataFrame:
    """Keep rows with ``start_ms <= ts_ms < end_ms`` (either bound optional), reindexed."""
    if start_ms is None and end_ms is None:
        return frame
    ts = frame["ts_ms"].to_numpy()
    mask = np.ones(ts.size, dtype=bool)
    if start_ms is not None:
        mask &= ts >= start_ms
    if end_ms is not None:
        mask &= ts < end_ms
    return frame.loc[mask].reset_index(drop=True)


def row_list(rows: Sequence[int], limit: int = 5) -> str:
    """Render row numbers for a message, eliding the middle of long lists."""
    shown = ", ".join(f"{r:,}" for r in rows[:limit])
    return shown + (f" … (+{len(rows) - limit:,} more)" if len(rows) > limit else "")
