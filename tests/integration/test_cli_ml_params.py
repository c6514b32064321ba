"""``strategy.params`` of ``ml`` from a YAML file: ``features``, ``label`` and ``model`` are
acted on when valid and refused, naming the field, the value and what is accepted, when not
(``tradebot config validate`` used to call them valid and a backtest died on a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import load_config
from tradebot.ml.features import FeatureSpec
from tradebot.ml.labels import LabelSpec
from tradebot.ml.model_kind import ModelKind
from tradebot.ml.models import ModelSpec
from tradebot.ml.strategy import MLStrategy
from tradebot.orchestrator.assembly import build_strategy


def _config(tmp_path: Path, params: str) -> Path:
    path = tmp_path / "ml.yaml"
    path.write_text(
        "trading: {symbols: [BTC/USDT], timeframe: 1h}\n"
        f"strategy:\n  name: ml\n  params: {{{params}}}\n"
    )
    return path


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ("model: random_forrest", "random_forest, gradient_boosting, logistic, lightgbm"),
        ("features: 'ret_1,foo_3'", "ret_<bars>, vol_<bars>, volume_<bars>, rsi_<bars>"),
        ("features: 'rsi_0'", "rsi_periods must all be at least 1"),
        ("label: twelve", "horizon_bars=<bars>"),
        ("label: 'horizon_bars=12,barier=0.02'", "horizon_bars=<bars>"),
        ("label: 0", "horizon_bars must be at least 1"),
        ("model: true", "random_forest, gradient_boosting"),
    ],
)
def test_config_validate_refuses_a_bad_ml_param_naming_field_value_and_accepted(
    tmp_path: Path, params: str, named: str
) -> None:
    field, value = (part.strip(" '") for part in params.split(":", 1))

    result = CliRunner().invoke(build_app(), ["config", "validate", str(_config(tmp_path, params))])

    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert f"strategy: params.{field}" in output.replace("`", "")
    assert value.lower() in output.lower()
    assert named in output


def test_ml_params_from_yaml_are_acted_on(tmp_path: Path) -> None:
    params = "features: 'ret_1, ret_24, vol_48, volume_24, rsi_14', label: 'horizon_bars=6,"
    params += "threshold=0.001,barrier=0.02', model: logistic"

    strategy = build_strategy(load_config(_config(tmp_path, params)))

    assert isinstance(strategy, MLStrategy)
    assert strategy.features == FeatureSpec((1, 24), (48,), (24,), (14,))
    assert strategy.label == LabelSpec(6, 0.001, 0.02)
    assert strategy.model == ModelSpec(ModelKind.LOGISTIC)
    assert strategy.get_config()["features"] == "ret_1,ret_24,vol_48,volume_24,rsi_14"


def test_ml_label_as_a_number_is_the_horizon(tmp_path: Path) -> None:
    strategy = build_strategy(load_config(_config(tmp_path, "label: 24")))

    assert isinstance(strategy, MLStrategy)
    assert strategy.label == LabelSpec(24)
