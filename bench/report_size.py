"""The HTML report of a 10,000-trade backtest: its size, the CPU time to write it, and the
time headless Chromium takes to load it and draw its charts.

The run is ``bench/backtest_speed.py``'s: ``ema_crossover`` 12/26 with a 2×ATR stop on the
2024 slice of ``../shared/data/binance_BTC-USDT_1m.csv.gz`` (527,040 bars, about 9,700
trades). The time is measured with Selenium from navigation (which returns once the page
has loaded) until the charts' SVG is there (Debian chromium and chromium-driver). Usage:
``python bench/report_size.py [--out DIR] [--no-browser]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backtest_speed import CASH, FEE, NOTIONAL, load
from common import BTC_1M, require_shared_data

_DRAWN = """
var done = arguments[arguments.length - 1];
var gd = document.getElementById('tradebot-charts');
var check = function () {
  if (gd && gd._fullLayout && gd.querySelector('.main-svg')) { done(performance.now()); }
  else { setTimeout(check, 20); }
};
check();
"""


def write(out: Path) -> Path:
    """Backtest and write the report; print its size and the CPU time of writing it."""
    from tradebot.backtest.metrics import compute_metrics
    from tradebot.backtest.report import write_report
    from tradebot.backtest.session import run_backtest
    from tradebot.config import load_config, with_overrides

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
    result = run_backtest(config, candles=load("1")).result
    metrics = compute_metrics(result)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        paths = write_report(result, metrics, out)
        best = min(best, time.process_time() - started)
    size = paths.html.stat().st_size
    print(f"{result.n_bars:,} bars, {len(result.trades):,} trades, {len(result.fills):,} fills")
    print(f"report.html {size / 1e6:.2f} MB; written in {best:.2f} CPU s (best of 3)")
    return paths.html


def draw(html: Path) -> None:
    """Open the report in headless Chromium; print the time until it is loaded and drawn."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1200"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        browser.set_script_timeout(120)
        for attempt in range(3):
            browser.get(html.as_uri())
            drawn_ms = browser.execute_async_script(_DRAWN)
            print(f"loaded and drawn {drawn_ms / 1000:.2f} s after navigation (run {attempt + 1})")
    finally:
        browser.quit()


def main() -> None:
    """Parse the options, write the report, draw it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    require_shared_data(BTC_1M)
    out = args.out or Path(tempfile.mkdtemp(prefix="report-size-"))
    html = write(out)
    if not args.no_browser:
        draw(html)


if __name__ == "__main__":
    main()
