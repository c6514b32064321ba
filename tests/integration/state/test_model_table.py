"""The registry's table on a real SQLite file: versions, one promoted model per name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tradebot.domain.errors import ConfigError, StateError
from tradebot.state import create_database
from tradebot.state.model_registry import ModelRecord, ModelStatus, ModelTable

RECORD = ModelRecord(
    model_id="btc-1",
    name="btc",
    version=1,
    kind="random_forest",
    features={"return_horizons": [1, 4]},
    label={"horizon_bars": 12, "threshold": 0.0, "barrier": None},
    params={"trees": 20, "seed": 0},
    data_source="btc.csv.gz",
    data_start_ms=0,
    data_end_ms=3_600_000,
    data_sha256="ab" * 32,
    trained_until_ms=3_600_000,
    metrics={"accuracy": 0.5, "calibration": [{"count": 3}]},
    artefact="btc-1.joblib",
    artefact_sha256="cd" * 32,
    status=ModelStatus.CANDIDATE,
    created_ts_ms=1,
)


def test_model_table_promote_second_version_demotes_the_first(tmp_path: Path) -> None:
    # Arrange
    table = ModelTable(create_database(tmp_path / "state.db"))
    table.add(RECORD)
    table.add(replace(RECORD, model_id="btc-2", version=table.next_version("btc"), created_ts_ms=2))
    table.promote("btc-1", ts_ms=10)
    # Act
    promoted = table.promote("btc-2", ts_ms=20)
    # Assert
    assert (promoted.model_id, promoted.status, promoted.promoted_ts_ms) == (
        "btc-2",
        ModelStatus.PROMOTED,
        20,
    )
    assert [(m.model_id, m.status) for m in table.models("btc")] == [
        ("btc-1", ModelStatus.CANDIDATE),
        ("btc-2", ModelStatus.PROMOTED),
    ]
    assert table.promoted("btc") == promoted
    assert table.get("btc-1") == replace(RECORD, promoted_ts_ms=10)
    assert table.next_version("btc") == 3


def test_model_table_same_id_twice_is_refused(tmp_path: Path) -> None:
    table = ModelTable(create_database(tmp_path / "state.db"))
    table.add(RECORD)

    with pytest.raises(StateError, match="model btc-1 \\(btc v1\\) is registered already"):
        table.add(RECORD)


def test_model_table_promote_unknown_id_names_the_list_command(tmp_path: Path) -> None:
    table = ModelTable(create_database(tmp_path / "state.db"))

    with pytest.raises(ConfigError, match="no model 'nope' in the registry: `tradebot ml list`"):
        table.promote("nope", ts_ms=1)
