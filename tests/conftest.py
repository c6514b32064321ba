"""Fixtures shared across the suite (factories live in tests/factories.py)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from factories import random_walk_candles


@pytest.fixture
def make_candles() -> Callable[..., pd.DataFrame]:
    """Seeded random-walk candles at any timeframe (real data lacks the stress cases)."""
    return random_walk_candles
