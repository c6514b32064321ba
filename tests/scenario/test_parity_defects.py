"""Backtest ↔ paper differences found by bench/parity.py on real data, drawn as a few bars.

Each test runs the same hand-written candles through the real paper path (ccxt → sandbox)
and the backtest (``tradebot.parity``) and expects identical trades.
"""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

from tradebot.config import Config, load_config, with_overrides
from tradebot.parity import paper_vs_backtest

STRATEGY = Path(__file__).parents[1] / "resources/strategies/bar_direction.py"
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
HOUR_MS = 3_600_000
FLAT = (100.0, 100.0, 100.0, 100.0)


def write_bars(path: Path, bars: list[tuple[float, float, float, float]]) -> Path:
    """Hourly BTC/USDT candles ``(open, high, low, close)`` as the sandbox replays them."""
    rows = [f"{T0 + i * HOUR_MS},{o},{h},{lo},{c},1" for i, (o, h, lo, c) in enumerate(bars)]
    text = "timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def limit_entry_config(**risk: object) -> Config:
    """BarDirection with limit entries 20 bps under the close and a 1 % stop."""
    updates = {
        "strategy.name": f"{STRATEGY}:BarDirection",
        "risk.stop_loss_method": "fixed_pct",
        "risk.stop_loss_pct": 0.01,
        "execution.order_type": "limit",
        "execution.limit_offset_bps": 20,
        "execution.limit_timeout_s": 3 * 3600,
        **{f"risk.{k}": v for k, v in risk.items()},
    }
    return with_overrides(load_config(None), updates, "test")


async def test_limit_entry_filled_in_a_bar_that_closes_below_its_stop_exits_alike(
    tmp_path: Path,
) -> None:
    # Arrange: an up bar (BUY, a limit 20 bps under the close: 100.80), then a bar that
    # fills it on its way down, falls through the 1 % stop (99.79) and closes below it, a
    # down bar (SELL). A paper bot learns of the fill at the close and places the stop then:
    # the venue refuses it ("would trigger immediately", as Binance does) and the bot sells
    # at once, a stop-loss exit at the next open. The backtest placed the stop at the fill,
    # mid-bar, where the venue accepted it; at the close the SELL signal cancelled it and
    # sold at the same open, labelled "signal".
    bars = [*[FLAT] * 5, (100, 101.2, 99.9, 101), (101, 101, 98, 98.5), *[(98.5,) * 4] * 5]
    data = write_bars(tmp_path / "btc_1h.csv.gz", bars)
    config = limit_entry_config()
    # Act
    comparison = await paper_vs_backtest(config, data, start_index=3, bars=7)
    # Assert
    paper = comparison.paper_trades
    assert [(t.entry_price, t.exit_price, t.exit_ts_ms) for t in paper] == [
        (Decimal("100.8"), Decimal("98.5"), T0 + 7 * HOUR_MS)
    ]
    assert comparison.differences == []


async def test_limit_entry_filled_in_a_bar_that_closes_above_its_take_profit_exits_alike(
    tmp_path: Path,
) -> None:
    # Arrange: the limit (100.80) fills on the way down, the bar then rises through the
    # 1.5 % take-profit (102.31) and closes above it (102.9). Paper places the OCO list at
    # the close: the venue refuses it (its take-profit would match at once) and the bot
    # sells at market at the next open, 102.9, labelled "stop_loss". The backtest placed the
    # list mid-bar; its take-profit (LIMIT_MAKER) fills at its own price, 102.31, at the
    # next open: the same trade 0.59 a coin apart.
    bars = [*[FLAT] * 5, (100, 101.2, 99.9, 101), (101, 103, 100.5, 102.9), *[(102.9,) * 4] * 5]
    data = write_bars(tmp_path / "btc_1h.csv.gz", bars)
    config = limit_entry_config(take_profit_method="pct", take_profit_pct=0.015)
    # Act
    comparison = await paper_vs_backtest(config, data, start_index=3, bars=7)
    # Assert
    assert len(comparison.paper_trades) == 1
    assert comparison.paper_trades[0].entry_price == Decimal("100.8")
    assert comparison.differences == []
