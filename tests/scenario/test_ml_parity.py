"""An ML strategy trades the same in paper trading as in the backtest of the same bars.

Paper trading recomputes the strategy on a rolling window each bar and retrains on it; the
backtest computes it once over the whole history. Both must fit the same models on the same
rows and so make the same trades (``tradebot.parity`` compares every field of every trade).
"""

from __future__ import annotations

from pathlib import Path

from tradebot.config import load_config
from tradebot.data.load import sample_path
from tradebot.parity import paper_vs_backtest, parity_config

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))

ML_STRATEGY_FILE = """
from tradebot.ml.labels import LabelSpec
from tradebot.ml.models import ModelKind, ModelSpec
from tradebot.ml.strategy import MLStrategy


class SmallML(MLStrategy):
    name = "small_ml"

    def __init__(self) -> None:
        super().__init__(
            label=LabelSpec(horizon_bars=6),
            model=ModelSpec(ModelKind.RANDOM_FOREST, trees=20),
            train_bars=200,
            retrain_every=12,
            buy_above=0.55,
            sell_below=0.45,
        )
"""


async def test_paper_vs_backtest_ml_strategy_same_trades(tmp_path: Path) -> None:
    # Arrange: the user's own strategy file, a random forest refitted every 12 hours
    strategy_file = tmp_path / "small_ml.py"
    strategy_file.write_text(ML_STRATEGY_FILE)
    overrides = {"strategy.name": f"{strategy_file}:SmallML", "strategy.params": {}}
    config = parity_config(load_config(None), overrides)

    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=150, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )

    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 3, "the window must hold trades to mean something"
    assert comparison.paper_equity == comparison.backtest_equity
