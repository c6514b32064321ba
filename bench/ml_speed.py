"""ML strategy speed: training time and backtest bars per CPU second on one year of BTC 1h.

Strategy: ``MLStrategy`` with its defaults (returns over 1/4/12/24 bars, volatility over
12/48, volume over 24; up/down after 12 bars; a 100-tree random forest on the last 500 bars,
refitted every 24 bars) in a backtest of the bundled 2024 BTC/USDT 1h sample (the user's
strategy file route, as ``tests/scenario/test_ml_parity.py`` takes). Printed: the CPU time
of ``calculate_indicators`` (every fit and prediction of the year) and of the whole
backtest, best of ``--repeat`` runs, and the backtest's bars per CPU second. CPU time, not
the wall clock: a busy machine disturbs it far less. Usage:
``python bench/ml_speed.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tradebot.backtest.session import run_backtest
from tradebot.config import load_config
from tradebot.config.loader import with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.ml.strategy import MLStrategy

STRATEGY_FILE = """
from tradebot.ml.strategy import MLStrategy


class DefaultML(MLStrategy):
    name = "default_ml"
"""


def main() -> None:
    """Time training and the backtest; print the best of the runs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    candles = load_candles(Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz"))))
    fits = len(MLStrategy().fit_bars(candles["ts_ms"].to_numpy()))
    train_s, backtest_s = [], []
    with tempfile.TemporaryDirectory() as folder:
        strategy_file = Path(folder) / "default_ml.py"
        strategy_file.write_text(STRATEGY_FILE)
        config = with_overrides(
            load_config(None),
            {"strategy.name": f"{strategy_file}:DefaultML", "strategy.params": {}},
            "bench",
        )
        for _ in range(args.repeat):
            start = time.process_time()
            MLStrategy().calculate_indicators(candles)
            train_s.append(time.process_time() - start)
            start = time.process_time()
            run = run_backtest(config, candles=candles)
            backtest_s.append(time.process_time() - start)
    bars = len(candles)
    print(f"{bars} bars, {fits} fit bars, trades {len(run.result.trades)}")
    print(f"indicators (all fits + predictions): {min(train_s):.2f} CPU s")
    print(f"backtest: {min(backtest_s):.2f} CPU s, {bars / min(backtest_s):,.0f} bars/CPU s")


if __name__ == "__main__":
    main()
