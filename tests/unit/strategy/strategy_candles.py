"""Candle builders for the strategy tests (seeded walks, hand-written closes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PEEKING = Path(__file__).resolve().parents[2] / "resources" / "strategies" / "peeking.py"
HONEST = PEEKING.with_name("honest.py")
HOUR_MS = 3_600_000


def random_walk(seed: int, n_bars: int = 3000, start: float = 100.0) -> pd.DataFrame:
    """Seeded 1h candles: log-normal closes, opens at the previous close, wicks around both."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.01, n_bars)))
    open_ = np.concatenate(([start], close[:-1]))
    body_high, body_low = np.maximum(open_, close), np.minimum(open_, close)
    high = body_high * (1.0 + rng.exponential(0.003, n_bars))
    low = body_low * (1.0 - rng.exponential(0.003, n_bars))
    ts = 1_704_067_200_000 + HOUR_MS * np.arange(n_bars, dtype=np.int64)
    volume = rng.exponential(10.0, n_bars)
    data = {"ts_ms": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    return pd.DataFrame(data)


def from_closes(closes: list[float]) -> pd.DataFrame:
    """Candles whose open is the previous close and whose wicks are the body (for rule tests)."""
    close = np.asarray(closes, dtype=np.float64)
    open_ = np.concatenate((close[:1], close[:-1]))
    ts = 1_704_067_200_000 + HOUR_MS * np.arange(len(close), dtype=np.int64)
    return pd.DataFrame(
        {
            "ts_ms": ts,
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": np.ones(len(close)),
        }
    )
