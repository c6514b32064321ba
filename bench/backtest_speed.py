"""Backtest speed: tradebot's engine against backtrader and vectorbt on the same strategy.

Strategy: ``ema_crossover`` 12/26 (RSI filter off), a 2×ATR(14) protective stop placed on the
entry fill, fee 0.1 % per side, entries of a fixed 10,000 USDT notional from 1,000,000 USDT
(so cash never runs out and sizing cannot make the engines diverge). Market orders decided at
a bar's close fill at the next bar's open; stops fill at the stop price or the open if the
bar gaps through it. Data: the 2024 slice of ``../shared/data/binance_BTC-USDT_1m.csv.gz``
(527,040 bars) at 1/100, 1/10 and the full slice, then the whole 2,059,120-bar file.

Each engine and size runs in a fresh process (peak RSS is its own) and runs ``--repeat``
times there: the first run pays what a first run pays (imports warmed, numba's JIT compile
for vectorbt), the later ones are warm; both are printed, and the ratios compare warm runs
(tradebot's warm against each peer's warm), so no peer is flattered or slighted by a
compile it pays once. bars/CPU s divides by the process's CPU time, which a busy machine
disturbs far less than the wall clock. Usage:
``python bench/backtest_speed.py [--no-peers] [--pure-only] [--sizes 0.01,0.1,1,all] [--repeat 3]``

tradebot runs twice: from the source as ``make install`` installs it (``tradebot``), and as
its wheel installs it, with the order lifecycle compiled by mypyc (``tradebot-c``,
``hatch_build.py``; built once per source under ``bench/.compiled``). The peers are compared
with the compiled row when there is one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BTC_1M, YEAR_2024, compiled_tradebot, peak_rss_mb, require_shared_data

NOTIONAL = 10_000.0
CASH = 1_000_000.0
FEE = 0.001


def load(size: str):  # type: ignore[no-untyped-def]
    """Candles for a size label: a fraction of 2024, or 'all'."""
    from tradebot.data.load import load_candles

    if size == "all":
        return _load_all()
    start, end = YEAR_2024
    frame = load_candles(BTC_1M, start, end, timeframe="1m")
    n = int(len(frame) * float(size))
    return frame.iloc[:n].reset_index(drop=True)


def _load_all():  # type: ignore[no-untyped-def]
    # The whole file has the real 2023-03-24 exchange halt (80 missing bars): a gap, which
    # the loader refuses by default. The backtest trades across it as the venue did.
    from tradebot.data.load import read_candle_file

    return read_candle_file(BTC_1M)


def timed_runs(bars: int, once: Callable[[], int], repeat: int) -> dict[str, float]:
    """Run ``once`` (which returns its trade count) ``repeat`` times: the first run's
    seconds, the best warm run's (wall and CPU), and the trades (every run must agree)."""
    walls, cpus, trades = [], [], set()
    for _ in range(max(repeat, 1)):
        started, cpu_started = time.perf_counter(), time.process_time()
        trades.add(once())
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    if len(trades) != 1:
        raise SystemExit(f"runs disagree on the trade count: {sorted(trades)}")
    warm_wall, warm_cpu = min(walls[1:] or walls), min(cpus[1:] or cpus)
    return {
        "bars": bars,
        "first_s": walls[0],
        "seconds": warm_wall,
        "bars_per_s": bars / warm_wall,
        "bars_per_cpu_s": bars / warm_cpu,
        "trades": trades.pop(),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_tradebot(size: str, repeat: int, expect_compiled: bool = False) -> dict[str, float]:
    """tradebot backtests, ``repeat`` times in this process; time excludes loading."""
    from tradebot.backtest.session import run_backtest
    from tradebot.config import load_config, with_overrides

    candles = load(size)
    config = with_overrides(
        load_config(None),
        {
            "trading.timeframe": "1m",
            "trading.starting_cash": CASH,
            "strategy.params": {"rsi_threshold": 100.0},
            "risk.position_sizing_method": "fixed_notional",
            "risk.max_position_size": NOTIONAL,
            "risk.max_portfolio_exposure": CASH,
            "risk.max_daily_loss": CASH,
            "risk.stop_loss_method": "atr",
            "risk.stop_loss_multiplier": 2.0,
            "backtest.fee_rate": FEE,
            "backtest.maker_fee_rate": FEE,
        },
        "bench",
    )

    def once() -> int:
        return len(run_backtest(config, candles=candles).result.trades)

    if expect_compiled:  # the compiled row must run the compiled engine, not the source
        from tradebot.cli.build import describe_build, is_compiled

        if not is_compiled():
            raise SystemExit(f"the compiled row ran {describe_build()}")

    return timed_runs(len(candles), once, repeat)


def _in_subprocess(
    kind: str, size: str, repeat: int, compiled: Path | None = None
) -> dict[str, float]:
    env = dict(os.environ)
    if compiled is not None:  # the wheel's compiled modules shadow the editable source
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(compiled), env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--worker", kind, "--sizes", size, "--repeat", str(repeat)]
    out = subprocess.run(
        [*command, "--expect-compiled"] if compiled is not None else command,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Run every engine and size in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0.01,0.1,1,all")
    parser.add_argument("--no-peers", action="store_true", help="skip backtrader and vectorbt")
    parser.add_argument("--repeat", type=int, default=3, help="runs per process (1st + warm)")
    parser.add_argument(
        "--pure-only", action="store_true", help="skip the mypyc-compiled build (hatch_build.py)"
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--expect-compiled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    require_shared_data(BTC_1M)
    if args.worker:
        if args.worker == "tradebot":  # tradebot's own figure needs neither peer installed
            result = run_tradebot(args.sizes, args.repeat, args.expect_compiled)
        else:
            from peers import PEERS

            result = PEERS[args.worker](args.sizes, args.repeat)
        print(json.dumps(result))
        return
    compiled = None if args.pure_only else compiled_tradebot()
    print(
        f"{'engine':<11}{'size':>6}{'bars':>11}{'first s':>9}{'warm s':>9}{'warm bars/s':>13}"
        f"{'bars/CPU s':>13}{'trades':>8}{'peak RSS MB':>13}"
    )
    for size in args.sizes.split(","):
        rows = {"tradebot": _in_subprocess("tradebot", size, args.repeat)}
        if compiled is not None:
            rows["tradebot-c"] = _in_subprocess("tradebot", size, args.repeat, compiled)
        if not args.no_peers and size in ("0.01", "0.1", "1"):
            rows["backtrader"] = _in_subprocess("backtrader", size, min(args.repeat, 2))
            rows["vectorbt"] = _in_subprocess("vectorbt", size, args.repeat)
        for kind, r in rows.items():
            print(
                f"{kind:<11}{size:>6}{int(r['bars']):>11,}{r['first_s']:>9.3f}{r['seconds']:>9.3f}"
                f"{r['bars_per_s']:>13,.0f}{r['bars_per_cpu_s']:>13,.0f}"
                f"{int(r['trades']):>8}{r['peak_rss_mb']:>13.0f}"
            )
        if "tradebot-c" in rows:
            pure, fast = rows["tradebot"], rows["tradebot-c"]
            print(
                f"  tradebot-c / tradebot (warm, CPU): "
                f"{fast['bars_per_cpu_s'] / pure['bars_per_cpu_s']:.2f}x; "
                f"trades {int(fast['trades'])} vs {int(pure['trades'])}"
            )
        ours = rows.get("tradebot-c", rows["tradebot"])
        for kind in ("backtrader", "vectorbt"):
            if kind in rows:
                peer = rows[kind]
                print(
                    f"  {'tradebot-c' if 'tradebot-c' in rows else 'tradebot'} / {kind} "
                    "(warm, CPU): "
                    f"{ours['bars_per_cpu_s'] / peer['bars_per_cpu_s']:.2f}x; first runs: "
                    f"{peer['first_s'] / ours['first_s']:.2f}x; "
                    f"trades {int(ours['trades'])} vs {int(peer['trades'])}"
                )


if __name__ == "__main__":
    main()
