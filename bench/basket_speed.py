"""Basket backtest speed: every 5m (and every 1h) file of ../shared/data on one account,
against the same markets backtested one at a time.

Strategy as bench/backtest_speed.py (EMA 12/26 cross, RSI filter off, 2×ATR stop, fixed
10,000 USDT entries from an account large enough that nothing is refused, fee 0.1 %), so
the basket makes exactly the single runs' trades and the cost per bar can be compared: the
basket's CPU seconds per bar against the sum of the single runs'. Each run is a fresh
process (peak RSS is its own); time excludes loading the files. Both builds are measured:
the source (``tradebot``) and the wheel's, with the order lifecycle compiled by mypyc
(``tradebot-c``, built as ``bench/backtest_speed.py`` builds it; ``--pure-only`` skips it).

    .venv/bin/python bench/basket_speed.py [--timeframes 5m 1h] [--repeat 2] [--pure-only]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_DATA, compiled_tradebot, peak_rss_mb, require_shared_data

BASES = ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "BNB", "LTC")
NOTIONAL, FEE = 10_000.0, 0.001


def _config(symbols: list[str], timeframe: str):  # type: ignore[no-untyped-def]
    from tradebot.config import load_config, with_overrides

    cash = 1_000_000.0 * len(symbols)
    return with_overrides(
        load_config(None),
        {
            "trading.symbols": symbols,
            "trading.timeframe": timeframe,
            "trading.starting_cash": cash,
            "strategy.params": {"rsi_threshold": 100.0},
            "risk.position_sizing_method": "fixed_notional",
            "risk.max_position_size": NOTIONAL,
            "risk.max_portfolio_exposure": cash,
            "risk.max_daily_loss": cash,
            "risk.max_open_positions": len(symbols),
            "risk.stop_loss_method": "atr",
            "risk.stop_loss_multiplier": 2.0,
            "backtest.fee_rate": FEE,
            "backtest.maker_fee_rate": FEE,
        },
        "bench",
    )


def run(symbols: list[str], timeframe: str) -> dict[str, float]:
    """One backtest of ``symbols`` (one: a single-symbol run) in this process."""
    from tradebot.backtest.basket import BasketData
    from tradebot.backtest.session import simulate, simulate_basket
    from tradebot.data.load import read_candle_file

    frames = {
        s: read_candle_file(SHARED_DATA / f"binance_{s.replace('/', '-')}_{timeframe}.csv.gz")
        for s in symbols
    }
    config = _config(symbols, timeframe)
    bars = sum(len(f) for f in frames.values())
    started, cpu_started = time.perf_counter(), time.process_time()
    if len(symbols) == 1:
        result, _ = simulate(config, frames[symbols[0]])
    else:
        result, _ = simulate_basket(config, BasketData(frames, config, "bench", None))
    return {
        "bars": bars,
        "trades": len(result.trades),
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
        "peak_mb": peak_rss_mb(),
    }


def in_process(symbols: list[str], timeframe: str, compiled: Path | None) -> dict[str, float]:
    """``run`` in a fresh interpreter, so its peak memory is its own (``compiled``: the
    wheel's modules first on its path, and checked to be the ones that ran)."""
    env = dict(os.environ)
    command = [sys.executable, __file__, "--child", timeframe, *symbols]
    if compiled is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(compiled), env.get("PYTHONPATH")]))
        command.append("--expect-compiled")
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def best(
    symbols: list[str], timeframe: str, repeat: int, compiled: Path | None
) -> dict[str, float]:
    """The run with the least CPU time of ``repeat``."""
    runs = (in_process(symbols, timeframe, compiled) for _ in range(repeat))
    return min(runs, key=lambda r: r["cpu_s"])


def main() -> int:
    """Print the basket's and the single runs' figures per timeframe."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeframes", nargs="*", default=["5m", "1h"])
    parser.add_argument("--repeat", type=int, default=2, help="runs each; the best CPU counts")
    parser.add_argument(
        "--pure-only", action="store_true", help="skip the mypyc-compiled build (hatch_build.py)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--expect-compiled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.expect_compiled:  # the compiled rows must run the compiled engine
            from tradebot.cli.build import describe_build, is_compiled

            if not is_compiled():
                raise SystemExit(f"the compiled row ran {describe_build()}")
        timeframe, *symbols = args.child
        print(json.dumps(run(symbols, timeframe)))
        return 0
    require_shared_data(SHARED_DATA)
    builds: dict[str, Path | None] = {"tradebot": None}
    if not args.pure_only and (compiled := compiled_tradebot()) is not None:
        builds["tradebot-c"] = compiled
    symbols = [f"{b}/USDT" for b in BASES]
    print(f"{'run':<28}{'bars':>10}{'trades':>8}{'cpu s':>8}{'bars/cpu s':>12}{'peak MB':>9}")
    for build, folder in builds.items():
        for timeframe in args.timeframes:
            _compare(build, folder, symbols, timeframe, args.repeat)
    return 0


def _compare(
    build: str, compiled: Path | None, symbols: list[str], timeframe: str, repeat: int
) -> None:
    """Print each market's single run, the basket's, and the basket's CPU per bar."""
    singles = [best([s], timeframe, repeat, compiled) for s in symbols]
    basket = best(symbols, timeframe, repeat, compiled)
    for s, r in zip(symbols, singles, strict=True):
        _row(f"{build} {s} {timeframe}", r)
    _row(f"{build} basket of {len(symbols)} {timeframe}", basket)
    single_cpu = sum(r["cpu_s"] for r in singles)
    single_trades = sum(r["trades"] for r in singles)
    per_bar = basket["cpu_s"] / basket["bars"] / (single_cpu / sum(r["bars"] for r in singles))
    print(
        f"  {build} {timeframe}: basket CPU per bar = {per_bar:.2f}× the single runs' "
        f"({basket['cpu_s']:.2f} s vs {single_cpu:.2f} s summed); trades "
        f"{basket['trades']:.0f} vs {single_trades:.0f} summed\n"
    )


def _row(label: str, r: dict[str, float]) -> None:
    print(
        f"{label:<28}{r['bars']:>10,.0f}{r['trades']:>8,.0f}{r['cpu_s']:>8.2f}"
        f"{r['bars'] / r['cpu_s']:>12,.0f}{r['peak_mb']:>9.0f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
