"""Shared set-up of the benchmarks: the data they read and the figures they print."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BTC_1M = SHARED_DATA / "binance_BTC-USDT_1m.csv.gz"
YEAR_2024 = (1_704_067_200_000, 1_735_689_600_000)


def require_shared_data(path: Path) -> None:
    """Exit 0 with a clear message when the shared data set is not beside the clone."""
    if not path.exists():
        print(f"skipped: {path} is absent (this benchmark needs ../shared/data beside the clone)")
        sys.exit(0)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
