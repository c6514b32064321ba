"""The walk-forward driver: what the optimiser sees, where each window trades, how the
out-of-sample windows chain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factories import make_candles
from tradebot.config import load_config
from tradebot.domain.decisions import MetadataValue
from tradebot.research.evaluation import evaluate
from tradebot.research.splits import walk_forward_folds
from tradebot.research.walkforward import walk_forward

PARAMS: dict[str, MetadataValue] = {"fast_period": 5, "slow_period": 20}


def test_walk_forward_optimiser_sees_only_in_sample_bars_and_windows_chain() -> None:
    # Arrange: a recording optimiser that always answers the same parameters
    config = load_config(None)
    candles = make_candles(1200, seed=4)
    seen: list[pd.DataFrame] = []

    def optimise(train: pd.DataFrame) -> dict[str, MetadataValue]:
        seen.append(train)
        return dict(PARAMS)

    folds = walk_forward_folds(len(candles), 600, 200)

    # Act
    result = walk_forward(config, candles, folds, optimise)

    # Assert: the optimiser got exactly each in-sample window
    assert [(int(s["ts_ms"].iloc[0]), len(s)) for s in seen] == [
        (int(candles["ts_ms"].iloc[f.train_start]), 600) for f in folds
    ]
    # the stitched record covers the out-of-sample bars once, in order
    oos = result.out_of_sample
    assert oos.ts_ms.tolist() == candles["ts_ms"].iloc[600:].tolist()
    assert result.fold_of_bar.tolist() == [0] * 200 + [1] * 200 + [2] * 200
    # each window's growth carries on from where the previous window ended
    growth = [f.out_of_sample.result.final_equity / 10_000 for f in result.folds]
    assert oos.equity[-1] == pytest.approx(10_000 * float(np.prod(growth)))
    assert oos.equity[199] == pytest.approx(10_000 * growth[0])
    assert len(oos.trades) == sum(len(f.out_of_sample.result.trades) for f in result.folds)


def test_walk_forward_window_warms_up_on_earlier_bars_and_trades_only_its_own() -> None:
    # Arrange
    config = load_config(None)
    candles = make_candles(1200, seed=4)
    folds = walk_forward_folds(len(candles), 600, 300)

    # Act
    result = walk_forward(config, candles, folds, lambda _: dict(PARAMS))

    # Assert: fold 2 equals a backtest of all bars before its end trading from bar 900
    second = result.folds[1].out_of_sample
    alone = evaluate(config, candles.iloc[:1200].reset_index(drop=True), PARAMS, 900)
    assert [t.entry_ts_ms for t in second.result.trades] == [
        t.entry_ts_ms for t in alone.result.trades
    ]
    assert all(t.entry_ts_ms >= candles["ts_ms"].iloc[900] for t in second.result.trades)
    assert second.metrics.n_bars == 300
    assert result.folds[1].in_sample.n_bars == 600
