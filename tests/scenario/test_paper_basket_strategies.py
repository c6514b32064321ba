"""A basket with a strategy per symbol (SOL/USDT an ensemble) trades in paper (sandbox over
ccxt, the symbols in lock-step on one account) exactly as the basket backtest of the same
bars: per-symbol strategies are the engine's, in both modes.

Sizing is a fixed notional with cash and limits to spare: today a symbol decided later in a
paper cycle sees the fills of the orders an earlier symbol sent in that cycle (the sandbox
fills a market order at once), which the backtest does not, so a binding cash or exposure
limit, or sizing from equity (capital allocation among them), would differ on a basket.
Allocation in paper is held to the backtest on one symbol
(``test_paper_ensemble_allocation.py``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradebot.config import load_config, with_overrides
from tradebot.data.load import load_candles, sample_path
from tradebot.parity import QUICK_STRATEGY, basket_paper_vs_backtest

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
# market: (first row of the sample, price scale): different months, so the signals differ
BASKET = {"BTC/USDT": (0, 1.0), "ETH/USDT": (2_000, 0.05), "SOL/USDT": (4_000, 0.003)}
ROWS = 300


def write_basket(folder: Path) -> dict[str, Path]:
    source = load_candles(BTC_1H)
    timeline = source["ts_ms"].to_numpy()[:ROWS]
    files = {}
    for symbol, (offset, scale) in BASKET.items():
        part = source.iloc[offset : offset + ROWS].reset_index(drop=True)
        frame = pd.DataFrame({"timestamp": timeline})
        for column in ("open", "high", "low", "close"):
            frame[column] = (part[column] * scale).round(2)
        frame["volume"] = part["volume"]
        files[symbol] = folder / f"binance_{symbol.replace('/', '-')}_1h.csv"
        frame.to_csv(files[symbol], index=False)
    return files


async def test_paper_basket_per_symbol_strategies_as_backtest(
    tmp_path: Path,
) -> None:
    # Arrange: BTC and ETH trade the quick EMA cross, SOL a 1-of-2 vote
    config = with_overrides(
        load_config(None),
        {
            **QUICK_STRATEGY,
            "trading.symbols": list(BASKET),
            "trading.starting_cash": 30_000,
            "strategy.symbols": {
                "SOL/USDT": {
                    "ensemble": {
                        "mode": "vote",
                        "k": 1,
                        "members": [
                            {
                                "name": "ema_crossover",
                                "params": {"fast_period": 3, "slow_period": 8},
                            },
                            {"name": "breakout", "params": {"period": 10, "exit_period": 5}},
                        ],
                    }
                }
            },
            "risk.position_sizing_method": "fixed_notional",
            "risk.max_position_size": 5_000,
            "risk.max_portfolio_exposure": 30_000,
            "risk.max_open_positions": 3,
            "risk.stop_loss_method": "fixed_pct",
            "risk.stop_loss_pct": 0.01,
        },
        "test",
    )
    # Act
    comparison = await basket_paper_vs_backtest(
        config,
        write_basket(tmp_path),
        start_index=60,
        bars=150,
        database_url=f"sqlite:///{tmp_path / 'p.db'}",
    )
    # Assert
    assert comparison.differences == []
    assert comparison.paper_equity == comparison.backtest_equity
    assert {t.symbol for t in comparison.paper_trades} == set(BASKET)
    sol = [t for t in comparison.paper_trades if t.symbol == "SOL/USDT"]
    assert len(sol) >= 3  # the ensemble traded
