"""Backtest ↔ paper parity on real Binance data: every trade identical, or exit 1.

For each data set below (BTC, ETH and DOGE on 1h and 5m; BTC 1h in mid-2018 and BTC 1m
around the 2023-03-24 spot halt, both with real gaps) and each configuration of
``tradebot.parity.configurations`` (a fixed stop; stop and take-profit as one OCO list;
limit entries; a trailing stop; limit entries with the OCO list), it paper-trades the bars
through the real path (ccxt over HTTP to the local sandbox replaying the file) and backtests
the same bars, both trading from the same bar after the same warm-up, and compares every
trade field by field: entry and exit times, prices, quantity, fees, PnL and exit reason.

    .venv/bin/python bench/parity.py [--bars 300] [--warmup 400] [--only BTC/USDT 5m]
                                     [--configs stop oco] [--jobs 2]

Each run replays a slice of its file (``--warmup`` bars, then ``--bars`` bar steps), written
to a temporary file so that both sides read exactly the same candles. It prints a table and
exits 1 on any difference; without ../shared/data it says so and exits 0.
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_DATA, require_shared_data
from tradebot.config import load_config
from tradebot.data.load import read_candle_file, write_candle_file
from tradebot.domain.market import timeframe_to_ms
from tradebot.parity import PaperComparison, configurations, paper_vs_backtest, parity_config

SHOWN_DIFFERENCES = 5


@dataclass(frozen=True, slots=True)
class DataSet:
    """A slice of one file: trading starts at the first bar at or after ``trade_from``."""

    symbol: str
    timeframe: str
    file: str
    trade_from: str
    note: str = ""

    @property
    def trade_from_ms(self) -> int:
        """``trade_from`` as UTC epoch milliseconds."""
        return int(datetime.fromisoformat(self.trade_from).replace(tzinfo=UTC).timestamp() * 1000)


DATA_SETS = (
    *(
        DataSet(f"{base}/USDT", tf, f"binance_{base}-USDT_{tf}.csv.gz", start)
        for tf, start in (("1h", "2025-03-01T00:00"), ("5m", "2025-06-02T00:00"))
        for base in ("BTC", "ETH", "DOGE")
    ),
    DataSet(
        "BTC/USDT",
        "1h",
        "derived/binance_BTC-USDT_1h_from1m_2017-2025.csv.gz",
        "2018-06-20T00:00",
        "gaps of 10, 1 and 7 h",
    ),
    DataSet("BTC/USDT", "1m", "binance_BTC-USDT_1m.csv.gz", "2023-03-24T10:00", "80-min spot halt"),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One data set under one configuration."""

    data: DataSet
    configuration: str
    bars: int
    comparison: PaperComparison
    seconds: float


def write_slice(data: DataSet, warmup: int, bars: int, folder: Path) -> tuple[Path, int]:
    """Write ``warmup`` bars before ``trade_from`` and ``bars`` + 2 steps after it to
    ``folder``, named as the original (the market and timeframe come from the name).
    Returns the file and the index of the first traded bar in it."""
    bar_ms = timeframe_to_ms(data.timeframe)
    start = data.trade_from_ms
    # Generous in time (gaps), then cut to exactly ``warmup`` bars before the start.
    frame = read_candle_file(
        SHARED_DATA / data.file, start - 2 * warmup * bar_ms, start + (bars + 2) * bar_ms
    )
    ts = frame["ts_ms"].to_numpy(np.int64)
    first = int(np.searchsorted(ts, start))
    frame = frame.iloc[max(first - warmup, 0) :].reset_index(drop=True)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(data.file).name
    write_candle_file(frame, path)
    return path, min(first, warmup)


@dataclass(frozen=True, slots=True)
class Job:
    """One data set, written to ``path``, under one configuration."""

    data: DataSet
    configuration: str
    path: Path
    start_index: int
    bars: int


def run_one(job: Job) -> Outcome:
    """Paper-trade and backtest one data set under one configuration (in a worker)."""
    # The bots' per-cycle log lines would bury the table.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    data = job.data
    overrides = {
        "trading.symbol": data.symbol,
        "trading.timeframe": data.timeframe,
        **configurations(data.timeframe, timeframe_to_ms(data.timeframe))[job.configuration],
    }
    config = parity_config(load_config(None), overrides)
    started = time.process_time()
    comparison = asyncio.run(
        paper_vs_backtest(config, job.path, start_index=job.start_index, bars=job.bars)
    )
    return Outcome(data, job.configuration, job.bars, comparison, time.process_time() - started)


def print_table(outcomes: list[Outcome]) -> None:
    """One row per data set and configuration, then the differences found."""
    head = f"{'symbol':<10}{'tf':<4}{'config':<10}{'trades':>7}{'exits (stop/tp/signal)':>24}"
    print(f"{head}{'diffs':>7}{'cpu s':>7}  note")
    for o in outcomes:
        c = o.comparison
        reasons = [t.exit_reason for t in c.paper_trades]
        exits = "/".join(str(reasons.count(r)) for r in ("stop_loss", "take_profit", "signal"))
        trades = f"{len(c.paper_trades)}" + (
            "" if len(c.paper_trades) == len(c.backtest_trades) else f"≠{len(c.backtest_trades)}"
        )
        print(
            f"{o.data.symbol:<10}{o.data.timeframe:<4}{o.configuration:<10}{trades:>7}"
            f"{exits:>24}{len(c.differences):>7}{o.seconds:>7.1f}  {o.data.note}"
        )
    for o in outcomes:
        diffs = o.comparison.differences
        if diffs:
            label = f"{o.data.symbol} {o.data.timeframe} {o.configuration}"
            print(f"\n{label}: {len(diffs)} differences")
            for line in diffs[:SHOWN_DIFFERENCES]:
                print(f"  {line}")


def main() -> int:
    """Run every data set under every configuration; 1 if any trade differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=300, help="bar steps each paper run replays")
    parser.add_argument("--warmup", type=int, default=400, help="bars before trading starts")
    parser.add_argument("--only", nargs="*", default=None, help="symbols and/or timeframes")
    parser.add_argument("--configs", nargs="*", default=None, help="configurations to run")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (processes)")
    args = parser.parse_args()
    require_shared_data(SHARED_DATA)
    only = set(args.only or ())
    symbols, timeframes = {o for o in only if "/" in o}, {o for o in only if "/" not in o}
    chosen = [
        d
        for d in DATA_SETS
        if (not symbols or d.symbol in symbols) and (not timeframes or d.timeframe in timeframes)
    ]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs: list[Job] = []
        for n, data in enumerate(chosen):
            path, start_index = write_slice(data, args.warmup, args.bars, Path(tmp) / str(n))
            names = configurations(data.timeframe, timeframe_to_ms(data.timeframe))
            jobs.extend(
                Job(data, name, path, start_index, args.bars)
                for name in names
                if not args.configs or name in args.configs
            )
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(run_one, job): n for n, job in enumerate(jobs)}
            done: dict[int, Outcome] = {}
            for future in as_completed(futures):
                o = done[futures[future]] = future.result()
                print(
                    f"  {len(done)}/{len(jobs)} {o.data.symbol} {o.data.timeframe} "
                    f"{o.configuration}: {len(o.comparison.paper_trades)} trades, "
                    f"{len(o.comparison.differences)} differences",
                    flush=True,
                )
        outcomes = [done[n] for n in range(len(jobs))]
    print()
    print_table(outcomes)
    trades = sum(len(o.comparison.paper_trades) for o in outcomes)
    differing = [o for o in outcomes if not o.comparison.identical]
    print(
        f"\n{len(outcomes)} runs, {trades} trades compared field by field, "
        f"{len(differing)} runs with differences, {time.perf_counter() - started:.0f} s wall"
    )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
