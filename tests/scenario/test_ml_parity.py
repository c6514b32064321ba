"""An ML strategy trades the same in paper trading as in the backtest of the same bars.

Paper trading recomputes the strategy on a rolling window each bar and retrains on it; the
backtest computes it once over the whole history. Both must fit the same models on the same
rows and so make the same trades (``tradebot.parity`` compares every field of every trade).
A registered model, loaded by name on each side, must trade the same too.
"""

from __future__ import annotations

from pathlib import Path

from tradebot.config import load_config
from tradebot.data.load import load_candles, sample_path
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.ml.recipe import Recipe
from tradebot.ml.registry import ModelRegistry
from tradebot.parity import paper_vs_backtest, parity_config

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))

ML_STRATEGY_FILE = """
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
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


async def test_paper_vs_backtest_registered_ml_model_same_trades(tmp_path: Path) -> None:
    # Arrange: a forest trained on the 400 bars before the window and promoted; the config
    # names it, so paper trading and the backtest each load it from the registry
    candles = load_candles(BTC_1H)
    registry = ModelRegistry.open(tmp_path / "models.db", create=True)
    recipe = Recipe(
        label=LabelSpec(horizon_bars=6),
        model=ModelSpec(ModelKind.RANDOM_FOREST, trees=20),
        train_bars=200,
        test_bars=100,
    )
    record = registry.train("btc", candles.iloc[:400], "first 400 bars", recipe, now_ms=1)
    registry.promote(record.model_id, now_ms=2)
    registry.close()
    params = {"model_name": "btc", "registry": str(tmp_path / "models.db")}
    params |= {"buy_above": 0.55, "sell_below": 0.45}
    config = parity_config(load_config(None), {"strategy.name": "ml", "strategy.params": params})

    # Act
    comparison = await paper_vs_backtest(
        config, BTC_1H, start_index=400, bars=150, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )

    # Assert
    assert comparison.differences == []
    assert len(comparison.paper_trades) >= 3, "the window must hold trades to mean something"
    assert comparison.paper_equity == comparison.backtest_equity
