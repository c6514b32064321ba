"""A regime-adaptive strategy trades the same in paper trading as in the backtest of the
same bars: paper trading recomputes the detector on a rolling window each bar, the backtest
once over the whole history; both must name the same regime at every bar and so make the
same trades (``tradebot.parity`` compares every field of every trade)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradebot.config import load_config
from tradebot.data.load import sample_path
from tradebot.parity import paper_vs_backtest, parity_config

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
EMA = {"strategy": "ema_crossover", "rsi_threshold": 100, "fast_period": 3, "slow_period": 8}
DETECTORS: dict[str, dict[str, object]] = {
    "vol_trend": {
        "detector": "vol_trend",
        "regime.vol_bars": 12,
        "regime.rank_bars": 100,
        "regime.trend_bars": 24,
        "regime.min_bars": 6,
        "regime.settle_bars": 50,
        "high_trend.fast_period": 2,
        "high_range.slow_period": 13,
        "mid_range.fast_period": 5,
    },
    "hmm": {
        "detector": "hmm",
        "regime.train_bars": 200,
        "regime.retrain_every": 24,
        "regime.filter_bars": 50,
        "high.fast_period": 5,
        "high.slow_period": 13,
    },
}


@pytest.mark.parametrize("detector", sorted(DETECTORS))
async def test_paper_vs_backtest_adaptive_strategy_same_trades(
    detector: str, tmp_path: Path
) -> None:
    # Arrange: an EMA cross whose periods switch with the regime
    params = {**EMA, **DETECTORS[detector]}
    overrides = {"strategy.name": "adaptive", "strategy.params": params}
    config = parity_config(load_config(None), overrides)

    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=150, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )

    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 3, "the window must hold trades to mean something"
    assert comparison.paper_equity == comparison.backtest_equity
