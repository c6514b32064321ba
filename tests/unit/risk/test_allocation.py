"""CapitalAllocator alone: inverse volatility reads only closed bars, and a symbol without a
full window yet gets the equal share while the others share the rest."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tradebot.risk.allocation import AllocationMethod, AllocationParams, CapitalAllocator

TS = np.arange(300, dtype=np.int64) * 3_600_000


def walk(seed: int, sigma: float, n: int = 300) -> np.ndarray:
    return 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, sigma, n)))


HISTORIES = {
    "AAA/USDT": (TS, walk(1, 0.01)),
    "BBB/USDT": (TS, walk(2, 0.02)),
    "CCC/USDT": (TS[250:], walk(3, 0.01, 50)),  # joined late: 50 bars only
}
ALLOCATOR = CapitalAllocator(
    AllocationParams(AllocationMethod.INVERSE_VOLATILITY, volatility_window=100),
    tuple(HISTORIES),
)


def test_symbol_without_a_full_window_gets_the_equal_share() -> None:
    at = int(TS[280])

    weights = {s: ALLOCATOR.allot(s, Decimal(9_000), HISTORIES, at).weight for s in HISTORIES}

    sigma = {s: np.diff(np.log(HISTORIES[s][1][180:281])).std() for s in ("AAA/USDT", "BBB/USDT")}
    inverse_sum = sum(1 / v for v in sigma.values())
    assert weights["CCC/USDT"] == Decimal("0.333333")
    for s, v in sigma.items():
        assert float(weights[s]) == pytest.approx(2 / 3 * (1 / v) / inverse_sum, abs=1e-6)


def test_inverse_volatility_ignores_bars_after_the_decision() -> None:
    at = int(TS[200])
    later = {s: (ts, close.copy()) for s, (ts, close) in HISTORIES.items()}
    later["AAA/USDT"][1][201:] *= np.exp(np.random.default_rng(9).normal(0, 0.2, 99))

    before = ALLOCATOR.allot("AAA/USDT", Decimal(1), HISTORIES, at)
    after = ALLOCATOR.allot("AAA/USDT", Decimal(1), later, at)

    assert before == after
