"""Candles for the strategy tests: the bundled real BTC/USDT 1h sample."""

from __future__ import annotations

import pandas as pd
import pytest

from tradebot.data.load import load_candles, sample_path


@pytest.fixture(scope="session")
def btc_1h() -> pd.DataFrame:
    """The whole bundled 2024 BTC/USDT 1h sample (8,784 real candles)."""
    return load_candles(sample_path("binance_BTC-USDT_1h_2024.csv.gz"))


@pytest.fixture(scope="session")
def btc_3000(btc_1h: pd.DataFrame) -> pd.DataFrame:
    """The first 3,000 bars of the sample: enough for every rule, quick to recompute."""
    return btc_1h.iloc[:3000].reset_index(drop=True)
