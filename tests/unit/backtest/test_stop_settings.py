"""``risk.stop_loss_multiplier`` and ``risk.atr_period`` set the stop a backtest places: the
protective stop of the first entry of the bundled sample sits that many ATRs of that period
below the entry's fill."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from tradebot.backtest.session import simulate
from tradebot.config import load_config, with_overrides
from tradebot.data.load import read_candle_file, sample_path
from tradebot.domain.orders import ClientOrderId


def first_stop_distance(candles: pd.DataFrame, multiplier: float, atr_period: int) -> Decimal:
    """Entry fill price minus the stop price of the stop placed when it filled."""
    overrides = {"risk.stop_loss_multiplier": multiplier, "risk.atr_period": atr_period}
    config = with_overrides(load_config(None), overrides, "test")
    result, engine = simulate(config, candles)
    entry = next(f for f in result.fills if f.client_order_id.endswith("-en"))
    # The stop's id names the bar its entry filled at (ids derive from what caused them).
    stop_id = f"{entry.client_order_id.rsplit('-', 2)[0]}-{entry.ts_ms}-sl"
    stop = engine.view.order(ClientOrderId(stop_id))
    assert stop is not None
    assert stop.stop_price is not None
    return entry.price - stop.stop_price


def test_backtest_stop_is_multiplier_atrs_of_atr_period_below_the_entry() -> None:
    candles = read_candle_file(sample_path("binance_BTC-USDT_1h_2024.csv.gz")).iloc[:120]
    two = first_stop_distance(candles, 2.0, 14)
    four = first_stop_distance(candles, 4.0, 14)
    short_atr = first_stop_distance(candles, 2.0, 5)
    assert abs(four - 2 * two) <= Decimal("0.02")  # twice the ATRs: twice as far (ticks apart)
    assert abs(short_atr - two) > Decimal(1)  # another ATR period: another distance
