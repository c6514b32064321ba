"""Seeded synthetic candles for the data tests (real data lacks the stress cases)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tradebot.data.frame import candles_from_arrays
from tradebot.domain.market import timeframe_to_ms

START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC

MakeCandles = Callable[..., pd.DataFrame]


def synthetic_candles(
    n: int, timeframe: str = "1m", start_ms: int = START_MS, seed: int = 7, price: float = 100.0
) -> pd.DataFrame:
    """A clean random walk: consistent OHLC, positive volume, no gaps."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[price, close[:-1]][:n]
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.0005, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.0005, n))
    ts = start_ms + np.arange(n, dtype=np.int64) * timeframe_to_ms(timeframe)
    return candles_from_arrays(ts, open_, high, low, close, rng.uniform(1.0, 10.0, n))


@pytest.fixture
def make_candles() -> MakeCandles:
    """The synthetic candle factory."""
    return synthetic_candles
