"""The HTML report opened in headless Chromium, offline: plotly must actually draw the charts.

Built from the bundled real sample (BTC/USDT 1h, 2024) and trades of a simple moving-average
crossover booked through the real Portfolio, so the page is the size and shape users get; and
a 10,000-trade run driven through Selenium: no script error, buckets of markers, single fills
once zoomed in, the log switch. Its screenshot is kept in reports/test-artefacts/report.png.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from factories import round_trips_result
from tradebot.backtest.metrics import compute_metrics
from tradebot.backtest.report import write_report
from tradebot.backtest.report.markers import BUCKETS, MARKER_LIMIT
from tradebot.backtest.result import BacktestResult
from tradebot.domain.decisions import Decision, Signal, SignalAction
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Portfolio, Trade

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SAMPLE = "binance_BTC-USDT_1h_2024.csv.gz"
ARTEFACTS = Path(
    os.environ.get(
        "TRADEBOT_TEST_ARTEFACTS", Path(__file__).parents[2] / "reports" / "test-artefacts"
    )
)
WAIT_S = 60

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and DRIVER.exists()),
        reason="needs Debian chromium and chromium-driver (.ci/run installs them)",
    ),
]


def crossover_entries(close: np.ndarray, fast: int = 24, slow: int = 96) -> np.ndarray:
    """+1 where the fast SMA crosses above the slow one, -1 where it crosses below."""
    kernel = np.ones(fast) / fast, np.ones(slow) / slow
    fast_ma = np.convolve(close, kernel[0])[: len(close)]
    slow_ma = np.convolve(close, kernel[1])[: len(close)]
    above = (fast_ma > slow_ma) & (np.arange(len(close)) >= slow)
    return np.diff(above.astype(np.int8), prepend=0)


def book(portfolio: Portfolio, bar: int, side: OrderSide, ts_ms: int, price: float) -> Fill:
    px = Decimal(f"{price:.2f}")
    qty = Decimal("0.05")
    return Fill(
        ClientOrderId(f"tb-{bar}-{side.value}"),
        "BTC/USDT",
        side,
        qty,
        px,
        (qty * px * Decimal("0.001")).quantize(Decimal("0.0001")),
        "USDT",
        ts_ms,
    )


def sample_result() -> BacktestResult:
    frame = pd.read_csv(str(files("tradebot.data") / "samples" / SAMPLE))
    ts = frame["timestamp"].to_numpy(np.int64)
    o, c = frame["open"].to_numpy(np.float64), frame["close"].to_numpy(np.float64)
    cross = crossover_entries(c)
    portfolio = Portfolio.with_cash(Decimal(10_000))
    fills: list[Fill] = []
    trades: list[Trade] = []
    decisions: list[Decision] = []
    equity, held = np.empty(len(ts)), np.zeros(len(ts))
    for i in range(1, len(ts)):
        signal = cross[i - 1]  # decided on the previous close, filled at this open
        is_open = portfolio.position("BTC/USDT") is not None and held[i - 1] > 0
        if (signal == 1 and not is_open) or (signal == -1 and is_open):
            side = OrderSide.BUY if signal == 1 else OrderSide.SELL
            fill = book(portfolio, i, side, int(ts[i]), float(o[i]))
            action = SignalAction.BUY if signal == 1 else SignalAction.SELL
            decisions.append(
                Decision(
                    int(ts[i - 1]),
                    "BTC/USDT",
                    Signal(action, 1.0, f"sma 24/96 cross {'up' if signal == 1 else 'down'}"),
                    {},
                    None,
                    f"place {side.value}",
                    (fill.client_order_id,),
                )
            )
            trade = portfolio.apply_fill(fill, "BTC", "USDT")
            fills.append(fill)
            if trade is not None:
                trades.append(replace(trade, exit_reason="signal"))
        pos = portfolio.position("BTC/USDT")
        held[i] = float(pos.qty) if pos else 0.0
        equity[i] = float(portfolio.cash) + held[i] * c[i]
    equity[0] = 10_000.0
    return BacktestResult(
        symbol="BTC/USDT",
        timeframe="1h",
        strategy_name="sma_crossover",
        strategy_config={"fast": 24, "slow": 96},
        starting_cash=10_000.0,
        ts_ms=ts,
        open=o,
        high=frame["high"].to_numpy(np.float64),
        low=frame["low"].to_numpy(np.float64),
        close=c,
        equity=equity,
        position_qty=held,
        trades=trades,
        fills=fills,
        decisions=decisions,
        fees_paid=float(portfolio.fees),
    )


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with no network features and a throwaway profile."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BacktestResult]:
    result = sample_result()
    out = tmp_path_factory.mktemp("report")
    return write_report(result, compute_metrics(result), out).html, result


def test_report_html_in_chromium_plotly_draws_offline(
    report: tuple[Path, BacktestResult], tmp_path: Path
) -> None:
    # Arrange
    report_html, result = report
    fills, trades = result.fills, result.trades

    # Act
    run = chromium(tmp_path, "--dump-dom", report_html.as_uri())

    # Assert: only what plotly.js drew counts, not the same words inside the inline script
    assert run.returncode == 0, run.stderr[-2000:]
    drawn = re.sub(r"<script.*?</script>", "", run.stdout, flags=re.DOTALL)
    assert 'class="plot-container plotly"' in drawn, "plotly.js did not run: nothing was drawn"
    assert drawn.count('class="main-svg"') >= 2
    assert drawn.count('class="trace boxes"') == 1  # the candles of the price panel
    assert drawn.count('class="point"') == len(fills)  # one triangle per entry and exit
    assert drawn.count('class="js-line"') >= 4  # equity, buy & hold and both drawdowns
    assert "Equity and buy &amp; hold (start = 1)" in drawn
    assert drawn.count("<tr><td>") >= len(trades)


def test_report_html_in_chromium_screenshot_is_drawn(
    report: tuple[Path, BacktestResult], tmp_path: Path
) -> None:
    # Arrange
    report_html = report[0]
    png = tmp_path / "report.png"

    # Act
    run = chromium(tmp_path, f"--screenshot={png}", "--window-size=1400,1800", report_html.as_uri())

    # Assert
    assert run.returncode == 0, run.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 50_000  # a blank page is a few kB; charts make it far larger


def open_browser(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        "--window-size=1400,1500", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(DRIVER)), options=options)


def trace_length(browser: WebDriver, name: str) -> int:
    script = (
        "var gd = document.getElementById('tradebot-charts');"
        f"var t = gd.data.find(function (d) {{ return d.name === {name!r}; }});"
        "return t.x.length;"
    )
    return int(browser.execute_script(script))


# Resolves once plotly has drawn what it was last told and the browser has painted it.
PAINTED = (
    "var done = arguments[arguments.length - 1];"
    "var gd = document.getElementById('tradebot-charts');"
    "Promise.resolve(gd._transitionData && gd._transitionData._waitingForTransitions)"
    ".then(function () { requestAnimationFrame(function () {"
    "  requestAnimationFrame(function () { done(true); }); }); });"
)
RANGES = (
    "var l = document.getElementById('tradebot-charts')._fullLayout, out = {};"
    "['xaxis', 'xaxis2', 'xaxis3', 'xaxis4', 'yaxis'].forEach(function (k) {"
    "  out[k] = l[k].range.slice(); });"
    "return out;"
)


def utc_ms(value: str | float) -> float:
    """Plotly's date-axis range value ("2024-01-28 21:20:13.4512", UTC) in epoch ms."""
    if isinstance(value, int | float):
        return float(value)
    whole, _, fraction = value.partition(".")
    moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
    return moment.timestamp() * 1000 + float(f"0.{fraction or 0}") * 1000


def price_layer(browser: WebDriver) -> WebElement:
    """The price panel's surface that takes the mouse (drag to zoom, double-click to reset)."""
    return browser.find_element(By.CSS_SELECTOR, "#tradebot-charts .nsewdrag[data-subplot='xy']")


def modebar(browser: WebDriver) -> dict[str, WebElement]:
    """The chart's tool buttons by title, shown as the mouse rests on the price panel."""
    ActionChains(browser).move_to_element(price_layer(browser)).perform()
    found = browser.find_elements(By.CSS_SELECTOR, "#tradebot-charts .modebar-btn")
    return {str(b.get_attribute("data-title")): b for b in found}


def drag_across_price(browser: WebDriver, width_px: int) -> None:
    """Drag horizontally over the price panel, as a trader zooms into a stretch."""
    actions = ActionChains(browser)
    actions.move_to_element_with_offset(price_layer(browser), -width_px, 0).click_and_hold()
    actions.move_by_offset(width_px // 2, 2).move_by_offset(width_px // 2, 0).release().perform()


@pytest.fixture(scope="module")
def big_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BacktestResult]:
    result = round_trips_result(10_000)
    out = tmp_path_factory.mktemp("big")
    return write_report(result, compute_metrics(result), out).html, result


def test_report_ten_thousand_trades_in_chromium_readable_and_zoomable(
    big_report: tuple[Path, BacktestResult], tmp_path: Path
) -> None:
    # Arrange
    html, result = big_report
    buys = np.array([f.ts_ms for f in result.fills if f.side is OrderSide.BUY])
    png, zoomed = tmp_path / "report.png", tmp_path / "report-zoomed.png"
    browser = open_browser(tmp_path / "profile")

    # Act
    try:
        started = time.monotonic()
        browser.get(html.as_uri())
        WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "#tradebot-charts .main-svg"),
            "plotly never drew the charts",
        )
        drawn_s = time.monotonic() - started
        whole = trace_length(browser, "entry (buy)")
        full_y = browser.execute_script(RANGES)["yaxis"]
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1400, min(int(height), 4000))
        browser.save_screenshot(str(png))
        browser.set_window_size(1400, 1500)
        drag_across_price(browser, 50)  # a zoom over ~4 % of the run: ~900 fills
        WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(
            lambda b: trace_length(b, "entry (buy)") != whole, "zooming in drew no single fills"
        )
        WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(
            lambda b: b.execute_script(RANGES)["yaxis"] != full_y, "the price axis kept its range"
        )
        browser.execute_async_script(PAINTED)
        ranges = browser.execute_script(RANGES)
        zoomed_entries = trace_length(browser, "entry (buy)")
        browser.find_element(By.ID, "tradebot-charts").screenshot(str(zoomed))
        buttons = modebar(browser)
        buttons["Reset axes"].click()
        WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(
            lambda b: trace_length(b, "entry (buy)") == whole, "zooming out kept single fills"
        )
        log_button = next(
            b
            for b in browser.find_elements(By.CSS_SELECTOR, ".updatemenu-button")
            if b.text == "log"
        )
        log_button.click()
        log_axes = browser.execute_script(
            "var l = document.getElementById('tradebot-charts').layout;"
            "return Object.keys(l).filter(function (k) { return l[k] && l[k].type === 'log'; });"
        )
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        browser.quit()
    lo, hi = (utc_ms(v) for v in ranges["xaxis"])
    in_view = int(((buys >= lo) & (buys < hi + 1)).sum())

    # Assert
    assert errors == []
    assert "Share chart..." not in buttons  # it would upload the run to Plotly's cloud
    assert 0 < whole <= BUCKETS  # 10,000 entries drawn as a bucket per stretch
    assert 0 < zoomed_entries == in_view <= MARKER_LIMIT  # each entry in view, one by one
    assert {ranges[f"xaxis{n}"] == ranges["xaxis"] for n in ("2", "3", "4")} == {True}
    y_low, y_high = ranges["yaxis"]
    assert y_high - y_low < (full_y[1] - full_y[0]) / 2  # the price axis fits the view
    assert log_axes == ["yaxis2"]  # the equity panel (no oscillator panel here) went log
    assert drawn_s < 30, f"the report took {drawn_s:.1f} s to draw"
    assert html.stat().st_size < 10_000_000
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTEFACTS / "report.png")
    shutil.copy(zoomed, ARTEFACTS / "report-zoomed.png")
