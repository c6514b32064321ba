"""An ensemble and a capital allocation act in paper trading as in a backtest: the same
engine decides both. Paper trading (TradingBot → ccxt → the sandbox over 127.0.0.1) and the
backtest of the bars it saw make the same trades, field by field, and every entry is sized
within the allocation's cap (5 % of the account, where the sizing alone asks 5,000)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tradebot.config import load_config
from tradebot.data.load import sample_path
from tradebot.parity import paper_vs_backtest, parity_config

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
CASH = Decimal(10_000)


async def test_paper_vs_backtest_ensemble_with_allocation_cap_same_trades(tmp_path: Path) -> None:
    # Arrange: a 1-of-2 vote of a quick EMA cross and a breakout; sizing asks 5,000 a
    # position, the allocation caps BTC/USDT at 5 % of the account
    config = parity_config(
        load_config(None),
        {
            "strategy.name": "ensemble",
            "strategy.params": {},
            "strategy.ensemble": {
                "mode": "vote",
                "k": 1,
                "members": [
                    {"name": "ema_crossover", "params": {"fast_period": 3, "slow_period": 8}},
                    {"name": "breakout", "params": {"period": 10, "exit_period": 5}},
                ],
            },
            "risk.position_sizing_method": "fixed_notional",
            "risk.max_position_size": 5000,
            "risk.stop_loss_method": "fixed_pct",
            "risk.stop_loss_pct": 0.01,
            "risk.allocation": {"caps": {"BTC/USDT": 0.05}},
        },
    )
    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=200, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 5
    for trade in comparison.paper_trades:
        notional = trade.qty * trade.entry_price
        assert Decimal(400) < notional <= Decimal("0.05") * CASH * Decimal("1.1"), notional
