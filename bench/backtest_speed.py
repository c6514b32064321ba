"""Backtest speed: tradebot's engine against backtrader and vectorbt on the same strategy.

Strategy: ``ema_crossover`` 12/26 (RSI filter off), a 2×ATR(14) protective stop placed on the
entry fill, fee 0.1 % per side, entries of a fixed 10,000 USDT notional from 1,000,000 USDT
(so cash never runs out and sizing cannot make the engines diverge). Market orders decided at
a bar's close fill at the next bar's open; stops fill at the stop price or the open if the
bar gaps through it. Data: the 2024 slice of ``../shared/data/binance_BTC-USDT_1m.csv.gz``
(527,040 bars) at 1/100, 1/10 and the full slice, then the whole 2,059,120-bar file.

Each size runs in a fresh process so peak RSS is that run's own. bars/CPU s divides by the
process's CPU time, which a busy machine disturbs far less than the wall clock. Usage:
``python bench/backtest_speed.py [--no-peers] [--sizes 0.01,0.1,1,all]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BTC_1M, YEAR_2024, peak_rss_mb, require_shared_data

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


def run_tradebot(size: str) -> dict[str, float]:
    """One tradebot backtest; the time excludes loading the data."""
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
    started, cpu_started = time.perf_counter(), time.process_time()
    run = run_backtest(config, candles=candles)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    result = run.result
    return {
        "bars": result.n_bars,
        "seconds": elapsed,
        "bars_per_s": result.n_bars / elapsed,
        "bars_per_cpu_s": result.n_bars / cpu,
        "trades": len(result.trades),
        "visited": float(result.settings.get("bars_visited", 0) or 0),
        "final_equity": result.final_equity,
        "peak_rss_mb": peak_rss_mb(),
    }


def _in_subprocess(kind: str, size: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--sizes", size],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Run every size in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0.01,0.1,1,all")
    parser.add_argument("--no-peers", action="store_true", help="skip backtrader and vectorbt")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    require_shared_data(BTC_1M)
    if args.worker:
        runner = {"tradebot": run_tradebot}
        if args.worker != "tradebot":  # tradebot's own figure needs neither peer installed
            from peers import run_backtrader, run_vectorbt

            runner.update(backtrader=run_backtrader, vectorbt=run_vectorbt)
        print(json.dumps(runner[args.worker](args.sizes)))
        return
    print(
        f"{'engine':<11}{'size':>6}{'bars':>11}{'seconds':>10}{'bars/s':>13}"
        f"{'bars/CPU s':>13}{'trades':>8}{'peak RSS MB':>13}"
    )
    for size in args.sizes.split(","):
        rows = {"tradebot": _in_subprocess("tradebot", size)}
        if not args.no_peers and size in ("0.01", "0.1", "1"):
            rows["backtrader"] = _in_subprocess("backtrader", size)
            rows["vectorbt"] = _in_subprocess("vectorbt", size)
        for kind, r in rows.items():
            print(
                f"{kind:<11}{size:>6}{int(r['bars']):>11,}{r['seconds']:>10.3f}"
                f"{r['bars_per_s']:>13,.0f}{r.get('bars_per_cpu_s', 0.0):>13,.0f}"
                f"{int(r['trades']):>8}{r['peak_rss_mb']:>13.0f}"
            )
        base = rows["tradebot"]["bars_per_s"]
        for kind in ("backtrader", "vectorbt"):
            if kind in rows:
                print(
                    f"  tradebot / {kind}: {base / rows[kind]['bars_per_s']:.2f}x speed; "
                    f"trades {int(rows['tradebot']['trades'])} vs {int(rows[kind]['trades'])}"
                )


if __name__ == "__main__":
    main()
