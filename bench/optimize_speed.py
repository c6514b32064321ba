"""Optimisation speed and memory: a 100-trial study of the default strategy, 1 and 2 workers.

Data: one year of BTC/USDT from ``../shared/data``: 1h, 2025 of ``binance_BTC-USDT_1h.csv.gz``
(8,760 bars; the file starts in September 2024), and 1m, 2024 of ``binance_BTC-USDT_1m.csv.gz``
(527,040 bars). Each study runs ``tradebot optimize``'s code
(``run_optimization``: TPE, rounds of 8, the default ``ema_crossover`` space) in a fresh
process with its study in a journal file, so its memory is its own. Printed per run:
trials/s by the wall clock, trials per CPU second (the study's process and its workers: a
busy machine disturbs it far less), and the peak memory of the process tree sampled every
0.1 s: summed RSS, and summed PSS, which counts a page shared by n processes (the mapped
candles, the code forked workers share) as 1/n in each, so it is what the tree really holds.
The issue's goal is two workers' peak at most 1.3 times one worker's.

``--sets 1m-all`` runs the whole 1m file (2,059,120 bars, 2022-2025), the issue's large
dataset (with fewer ``--trials``: each takes seconds).

Usage: ``python bench/optimize_speed.py [--trials 100] [--sets 1h,1m,1m-all] [--workers 1,2]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_DATA, require_shared_data

FILES = {
    "1h": SHARED_DATA / "binance_BTC-USDT_1h.csv.gz",
    "1m": SHARED_DATA / "binance_BTC-USDT_1m.csv.gz",
    "1m-all": SHARED_DATA / "binance_BTC-USDT_1m.csv.gz",
}
WINDOWS: dict[str, dict[str, object]] = {
    "1h": {"backtest.start": "2025-01-01", "backtest.end": "2026-01-01"},
    "1m": {"backtest.start": "2024-01-01", "backtest.end": "2025-01-01"},
    # the whole file, across the real 80-minute exchange halt of 2023-03-24
    "1m-all": {"backtest.data_repair": "drop"},
}


def run_study(timeframe: str, workers: int, trials: int, folder: str) -> dict[str, float]:
    """One study, in this process (the child the parent watches)."""
    from tradebot.config import load_config, with_overrides
    from tradebot.research.optimize import StudyPlan
    from tradebot.research.session import OptimizeRequest, run_optimization

    config = with_overrides(
        load_config(None),
        {
            "backtest.data": str(FILES[timeframe]),
            "trading.timeframe": timeframe.partition("-")[0],
            **WINDOWS[timeframe],
            "database.path": f"{folder}/bot.db",
        },
        "bench",
    )
    request = OptimizeRequest(
        config,
        StudyPlan(name="bench", n_trials=trials),
        workers=workers,
        storage=f"{folder}/study.journal",
    )
    started = time.monotonic()
    run = run_optimization(request)
    best = run.best[0]
    return {
        "bars": float(len(run.data.candles)),
        "ran": float(run.ran),
        "study_s": time.monotonic() - started,
        "best_trial": float(best.number),
        "best_sharpe": float(best.values[0]),
    }


def measure(timeframe: str, workers: int, trials: int) -> dict[str, float]:
    """Run one study in a child process; sample its tree's memory until it ends."""
    with tempfile.TemporaryDirectory(prefix="bench-optimize-") as folder:
        args = [sys.executable, __file__, "--child", timeframe, str(workers), str(trials), folder]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        child = psutil.Popen(args, stdout=subprocess.PIPE, text=True)
        peak_rss = peak_pss = 0.0
        while child.poll() is None:
            rss, pss = _tree_memory(child)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.1)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"the study failed ({timeframe}, -j{workers})")
        result = json.loads(out.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result.update(wall_s=wall, cpu_s=cpu, peak_rss_mb=peak_rss, peak_pss_mb=peak_pss)
    return result


def _tree_memory(root: psutil.Process) -> tuple[float, float]:
    rss = pss = 0.0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    for process in processes:
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss / 2**20
        pss += info.pss / 2**20
    return rss, pss


def main() -> None:
    """Run the grid and print one line per study, then the memory ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--sets", default="1h,1m")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--child", nargs=4)
    args = parser.parse_args()
    if args.child:
        timeframe, workers, trials, folder = args.child
        print(json.dumps(run_study(timeframe, int(workers), int(trials), folder)))
        return
    sets = args.sets.split(",")
    for timeframe in sets:
        require_shared_data(FILES[timeframe])
    print(f"{args.trials}-trial studies of ema_crossover on BTC/USDT (TPE, rounds of 8)")
    for timeframe in sets:
        peaks: dict[int, float] = {}
        for workers in (int(w) for w in args.workers.split(",")):
            r = measure(timeframe, workers, args.trials)
            peaks[workers] = r["peak_pss_mb"]
            print(
                f"{timeframe} {int(r['bars']):>7,} bars -j{workers}: "
                f"{r['ran'] / r['study_s']:6.2f} trials/s wall, "
                f"{r['ran'] / r['cpu_s']:6.2f} trials/CPU s, peak PSS {r['peak_pss_mb']:7.0f} MB "
                f"(RSS {r['peak_rss_mb']:7.0f} MB); best trial {int(r['best_trial'])}, "
                f"Sharpe {r['best_sharpe']:.3f}"
            )
        if 1 in peaks and 2 in peaks:
            print(f"{timeframe}: two workers' peak PSS = {peaks[2] / peaks[1]:.2f} × one worker's")


if __name__ == "__main__":
    main()
