"""Backtest ↔ paper parity of a basket on real Binance data: every trade identical, or exit 1.

Six markets of ../shared/data (BTC, ETH, SOL, XRP, DOGE, ADA), on 1h and on 5m, trimmed to
a common timeline, paper-traded on one account through the real path (one ccxt connection
to the sandbox replaying every file in lock-step) and backtested as a basket on the same
bars, under each configuration of ``tradebot.parity.configurations``. Every trade is
compared field by field (symbol, times, prices, quantity, fees, PnL, exit reason), and the
final equity.

    .venv/bin/python bench/basket_parity.py [--bars 300] [--warmup 400] [--only 1h]
                                            [--configs stop oco] [--jobs 2]

Without ../shared/data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_DATA, require_shared_data
from parity import DataSet, write_slice
from tradebot.config import load_config
from tradebot.domain.market import timeframe_to_ms
from tradebot.parity import (
    PaperComparison,
    basket_paper_vs_backtest,
    configurations,
    parity_config,
)

BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA")
STARTS = {"1h": "2025-03-01T00:00", "5m": "2025-06-02T00:00"}
SHOWN_DIFFERENCES = 5


@dataclass(frozen=True, slots=True)
class Job:
    """One timeframe's basket, written to ``files``, under one configuration."""

    timeframe: str
    configuration: str
    files: dict[str, Path]
    start_index: int
    bars: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """One basket under one configuration."""

    job: Job
    comparison: PaperComparison
    seconds: float


def run_one(job: Job) -> Outcome:
    """Paper-trade and backtest one basket under one configuration (in a worker)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    overrides = {
        "trading.symbols": list(job.files),
        "trading.timeframe": job.timeframe,
        "risk.max_open_positions": len(job.files),
        "risk.max_portfolio_exposure": 10_000,
        **configurations(job.timeframe, timeframe_to_ms(job.timeframe))[job.configuration],
    }
    config = parity_config(load_config(None), overrides)
    started = time.process_time()
    comparison = asyncio.run(
        basket_paper_vs_backtest(config, job.files, start_index=job.start_index, bars=job.bars)
    )
    return Outcome(job, comparison, time.process_time() - started)


def write_basket(
    timeframe: str, warmup: int, bars: int, folder: Path
) -> tuple[dict[str, Path], int]:
    """Each market's slice around one start time; trading starts at the first file's
    bar at that time (the others' bars at the same time: one timeline)."""
    files: dict[str, Path] = {}
    starts = []
    for base in BASES:
        name = f"binance_{base}-USDT_{timeframe}.csv.gz"
        data = DataSet(f"{base}/USDT", timeframe, name, STARTS[timeframe])
        path, start_index = write_slice(data, warmup, bars, folder)
        files[data.symbol] = path
        starts.append(start_index)
    return files, starts[0]


def print_table(outcomes: list[Outcome]) -> None:
    """One row per basket and configuration, then the differences found."""
    head = f"{'tf':<4}{'config':<10}{'symbols':>8}{'trades':>8}{'diffs':>7}"
    print(f"{head}{'equity equal':>14}{'cpu s':>8}")
    for o in outcomes:
        c = o.comparison
        traded = len({t.symbol for t in c.paper_trades})
        trades = f"{len(c.paper_trades)}" + (
            "" if len(c.paper_trades) == len(c.backtest_trades) else f"≠{len(c.backtest_trades)}"
        )
        same = "yes" if c.paper_equity == c.backtest_equity else "NO"
        print(
            f"{o.job.timeframe:<4}{o.job.configuration:<10}{traded:>8}{trades:>8}"
            f"{len(c.differences):>7}{same:>14}{o.seconds:>8.1f}"
        )
    for o in outcomes:
        for line in o.comparison.differences[:SHOWN_DIFFERENCES]:
            print(f"  {o.job.timeframe} {o.job.configuration}: {line}")


def main() -> int:
    """Run each timeframe's basket under every configuration; 1 if any trade differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=300, help="bar steps each paper run replays")
    parser.add_argument("--warmup", type=int, default=400, help="bars before trading starts")
    parser.add_argument("--only", nargs="*", default=None, help="timeframes (1h, 5m)")
    parser.add_argument("--configs", nargs="*", default=None, help="configurations to run")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (processes)")
    args = parser.parse_args()
    require_shared_data(SHARED_DATA)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs: list[Job] = []
        for timeframe in args.only or STARTS:
            files, start = write_basket(timeframe, args.warmup, args.bars, Path(tmp) / timeframe)
            names = configurations(timeframe, timeframe_to_ms(timeframe))
            jobs += [
                Job(timeframe, name, files, start, args.bars)
                for name in names
                if not args.configs or name in args.configs
            ]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(run_one, job): n for n, job in enumerate(jobs)}
            done: dict[int, Outcome] = {}
            for future in as_completed(futures):
                o = done[futures[future]] = future.result()
                print(
                    f"  {len(done)}/{len(jobs)} {o.job.timeframe} {o.job.configuration}: "
                    f"{len(o.comparison.paper_trades)} trades, "
                    f"{len(o.comparison.differences)} differences",
                    flush=True,
                )
    outcomes = [done[n] for n in sorted(done)]
    print()
    print_table(outcomes)
    total = sum(len(o.comparison.paper_trades) for o in outcomes)
    differing = sum(1 for o in outcomes if o.comparison.differences)
    print(
        f"\n{len(outcomes)} basket runs of {len(BASES)} symbols, {total} trades, "
        f"{differing} runs with differences, {time.perf_counter() - started:.0f} s wall"
    )
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
