"""Returns per calendar month and year (UTC) of an equity curve marked per bar.

A month's return compounds from the equity at the previous month's last close (the starting
cash for the first month) to the equity at its own last close, so the months of a year
multiply to the year's return and every month of the run to the total return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from tradebot.backtest.result import FloatArray, IntArray

_Key = TypeVar("_Key", int, tuple[int, int])


@dataclass(frozen=True, slots=True)
class PeriodReturns:
    """Return in percent by ``(year, month)`` and by year, in time order."""

    months: dict[tuple[int, int], float]
    years: dict[int, float]


def period_returns(ts_ms: IntArray, equity: FloatArray, starting_cash: float) -> PeriodReturns:
    """Monthly and yearly returns of ``equity`` (bars opening at ``ts_ms``, UTC)."""
    if not len(ts_ms):
        return PeriodReturns({}, {})
    month = ts_ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    last = np.flatnonzero(np.diff(month, append=month[-1] + 1))  # each month's last bar
    keys = [(int(m // 12) + 1970, int(m % 12) + 1) for m in month[last]]
    ends = equity[last].astype(np.float64)
    months = _chained(keys, ends, starting_cash)
    year_last = [i for i, k in enumerate(keys) if i + 1 == len(keys) or keys[i + 1][0] != k[0]]
    years = _chained([keys[i][0] for i in year_last], ends[year_last], starting_cash)
    return PeriodReturns(months, years)


def _chained(keys: list[_Key], ends: FloatArray, start: float) -> dict[_Key, float]:
    out: dict[_Key, float] = {}
    before = start
    for key, end in zip(keys, ends, strict=True):
        out[key] = (float(end) / before - 1) * 100 if before > 0 else 0.0
        before = float(end)
    return out
