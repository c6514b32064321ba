"""The HTML report opened in headless Chromium, offline: plotly must actually draw the charts.

Built from the bundled real sample (BTC/USDT 1h, 2024) and trades of a simple moving-average
crossover booked through the real Portfolio, so the page is the size and shape users get.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradebot.backtest.metrics import compute_metrics
from tradebot.backtest.report import write_report
from tradebot.backtest.result import BacktestResult
from tradebot.domain.decisions import Decision, Signal, SignalAction
from tradebot.domain.orders import ClientOrderId, Fill, OrderSide
from tradebot.domain.portfolio import Portfolio, Trade

CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = "binance_BTC-USDT_1h_2024.csv.gz"

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (.ci/run installs it)"),
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
