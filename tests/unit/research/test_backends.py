"""Where trials run: what a worker process holds between trials."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_worker_gives_a_trials_columns_back_when_it_ends(tmp_path: Path) -> None:
    # Arrange: a fresh interpreter (the heap's state is the process's), 300,000 minutes
    # (2.3 MB a column). glibc kept the trial's freed columns resident in the heap, so a
    # worker held its largest trial's peak between trials: 11 MB here, 30 MB and more on
    # the whole BTC 1m file, and two workers' sum grew with it.
    tests = Path(__file__).resolve().parents[2]
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(tests)!r})\n"
        "from pathlib import Path\n"
        "from factories import random_walk_candles\n"
        "from tradebot.config import load_config, with_overrides\n"
        "from tradebot.research.backends import InProcessBackend\n"
        "from tradebot.research.candles import write_candles\n"
        "from tradebot.research.trial import TrialSpec\n"
        "def rss_mb():  # resident, less the mapped candles' file pages\n"
        "    pages = [int(p) for p in Path('/proc/self/statm').read_text().split()]\n"
        "    return (pages[1] - pages[2]) * 4096 / 2**20\n"
        "config = with_overrides(load_config(None), {'trading.timeframe': '1m'}, 't')\n"
        f"folder = write_candles(random_walk_candles(300_000, '1m'), Path({str(tmp_path)!r}))\n"
        "backend = InProcessBackend(TrialSpec(config, 0, ('sharpe',)), folder)\n"
        "before = rss_mb()\n"
        "params = {'fast_period': 12, 'slow_period': 26, 'rsi_period': 14}\n"
        "outcome = backend.run([(0, params)])[0]\n"
        "print(outcome.metrics['total_trades'], round(rss_mb() - before, 1))\n"
    )

    # Act
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    # Assert: what stays is the first trial's caches, not its columns
    trades, held_mb = out.split()
    assert int(trades) > 1000
    assert float(held_mb) < 3 * 2.3, f"{held_mb} MB held after the trial"
