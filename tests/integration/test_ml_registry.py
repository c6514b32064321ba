"""The model registry on a real SQLite file: round-trip in a fresh process, tampering refused.

A model is trained on June 2024 of the bundled BTC/USDT 1h sample, promoted, and traded by
name from a YAML config in a ``tradebot backtest`` subprocess over the weeks after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tradebot.data.frame import parse_time_ms
from tradebot.data.load import load_candles, sample_path
from tradebot.domain.errors import ConfigError
from tradebot.ml.artefact import ArtefactError
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.ml.recipe import Recipe
from tradebot.ml.registry import ModelRegistry
from tradebot.ml.strategy import FIT_TS, PROBA, MLStrategy
from tradebot.strategy.base import Bars
from tradebot.strategy.registry import create_strategy

BTC_1H = Path(str(sample_path("binance_BTC-USDT_1h_2024.csv.gz")))
RECIPE = Recipe(
    label=LabelSpec(horizon_bars=6),
    model=ModelSpec(ModelKind.RANDOM_FOREST, trees=10),
    train_bars=300,
    test_bars=200,
)
JUNE = (parse_time_ms("2024-06-01"), parse_time_ms("2024-07-01"))


def _promoted(tmp_path: Path) -> tuple[Path, ModelRegistry]:
    db = tmp_path / "state.db"
    registry = ModelRegistry.open(db, create=True)
    record = registry.train("btc", load_candles(BTC_1H, *JUNE), "june", RECIPE, now_ms=1)
    registry.promote(record.model_id, now_ms=2)
    return db, registry


def test_registry_promoted_model_traded_in_a_fresh_process_predicts_the_same(
    tmp_path: Path,
) -> None:
    # Arrange: a promoted model, its predictions here, and a config naming it
    db, registry = _promoted(tmp_path)
    loaded = registry.load_promoted("btc")
    registry.close()
    after = load_candles(BTC_1H, parse_time_ms("2024-06-25"), parse_time_ms("2024-07-15"))
    x = loaded.features.matrix(after)
    here = dict(
        zip(after["ts_ms"].tolist(), loaded.classifier.predict_proba(x)[:, 1].tolist(), strict=True)
    )
    config = tmp_path / "ml.yaml"
    config.write_text(
        "strategy:\n  name: ml\n  params:\n    model_name: btc\n"
        f"    registry: {db}\n    buy_above: 0.52\n    sell_below: 0.48\n"
    )
    command = [sys.executable, "-c", "from tradebot.cli import main; main()", "backtest"]
    flags = ["-c", str(config), "--data", str(BTC_1H), "--start", "2024-06-25"]
    flags += ["--end", "2024-07-15", "--report-dir", str(tmp_path / "r")]

    # Act: a fresh interpreter loads the model by name from the config and trades it
    done = subprocess.run(
        [*command, *flags], capture_output=True, text=True, timeout=120, check=False
    )

    # Assert: every decision names the model and its probability is the one computed here
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "r" / "latest" / "decisions.jsonl").read_text().splitlines()
    decisions = [json.loads(line) for line in lines]
    assert len(decisions) >= 10
    assert {d["signal"]["metadata"]["model_id"] for d in decisions} == {"btc-1"}
    assert [d["signal"]["metadata"]["probability"] for d in decisions] == [
        here[d["ts_ms"]] for d in decisions
    ]
    assert min(d["ts_ms"] for d in decisions) >= loaded.record.trained_until_ms


def test_registry_changed_artefact_is_refused_naming_the_file(tmp_path: Path) -> None:
    # Arrange: one byte of the promoted model's file changed
    db, registry = _promoted(tmp_path)
    registry.close()
    (artefact,) = (tmp_path / "models").glob("btc-1-*.joblib")
    content = bytearray(artefact.read_bytes())
    content[-1] ^= 1
    artefact.write_bytes(bytes(content))

    # Act
    with pytest.raises(ArtefactError) as err:
        create_strategy("ml", {"model_name": "btc", "registry": str(db)})

    # Assert
    assert str(err.value).startswith(
        f"model btc-1: its file {artefact} has changed since it was registered (sha256 "
    )
    assert "restore the original file, or train and register the model again" in str(err.value)


def test_ml_strategy_registered_model_predicts_from_its_trained_until_bar(
    tmp_path: Path,
) -> None:
    # Arrange
    db, registry = _promoted(tmp_path)
    registry.close()
    strategy = MLStrategy(model_name="btc", registry=str(db))
    candles = load_candles(BTC_1H, parse_time_ms("2024-06-20"), parse_time_ms("2024-07-05"))
    until = strategy.get_config()["model_id"], int(parse_time_ms("2024-06-30T23:00"))

    # Act
    bars = Bars.from_frame(strategy.calculate_indicators(candles))
    signals = [strategy.generate_signals(bars.upto(i), i, None) for i in range(len(candles))]

    # Assert: no prediction on a bar whose label the model learned from
    ts = candles["ts_ms"].to_numpy()
    proba = np.asarray(bars[PROBA])
    assert until == ("btc-1", int(np.asarray(bars[FIT_TS])[ts >= until[1]][0]))
    assert np.isnan(proba[ts < until[1]]).all()
    assert np.isfinite(proba[ts >= until[1]]).all()
    assert {s.metadata.get("model_id") for s in signals[-24:]} == {"btc-1"}
    assert strategy.live_window_bars == strategy.features.warmup_bars + 1


def test_ml_strategy_registered_model_with_a_retraining_setting_is_refused(
    tmp_path: Path,
) -> None:
    db, registry = _promoted(tmp_path)
    registry.close()

    with pytest.raises(ConfigError, match="never retrained: drop train_bars, retrain_every"):
        create_strategy(
            "ml",
            {"model_name": "btc", "registry": str(db), "train_bars": 100, "retrain_every": 5},
        )


def test_ml_strategy_unknown_model_name_lists_the_promoted_ones(tmp_path: Path) -> None:
    db, registry = _promoted(tmp_path)
    registry.close()

    with pytest.raises(ConfigError, match=r"no promoted model named 'eth' .*\(promoted: btc\)"):
        create_strategy("ml", {"model_name": "eth", "registry": str(db)})


def test_registry_on_a_database_server_without_a_models_folder_says_which_option() -> None:
    # refused before connecting: no server is needed to say what is missing
    url = "postgresql+psycopg://bot:secret@127.0.0.1:1/tradebot"

    with pytest.raises(ConfigError) as err:
        ModelRegistry.open(url)

    assert str(err.value) == (
        "the registry at postgresql+psycopg://bot:***@127.0.0.1:1/tradebot is a database"
        " server, which holds no files: name the models' folder (--models-dir, or models_dir"
        " in the strategy's params)"
    )
