"""`tradebot config show/validate`, credentials lookup, and docs/config.md covering every key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.config import MASK, Config, load_config, load_credentials
from tradebot.domain.errors import ConfigError

SECRET = "s3cr3t-VALUE-9f8e7d"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def write(tmp_path: Path, text: str, name: str = "config.yaml", mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


# --- config show ----------------------------------------------------------------------------


def test_config_show_default_prints_resolved_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    for name in ("BINANCE_API_KEY", "BINANCE_API_SECRET", "TELEGRAM_TOKEN", "TELEGRAM_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)

    # Act
    code, output = run("config", "show")

    # Assert
    assert code == 0
    shown = yaml.safe_load(output)
    assert shown == load_config(None).model_dump_masked()
    assert shown["trading"]["symbol"] == "BTC/USDT"
    assert shown["risk"]["max_position_size"] == 1000
    assert shown["backtest"]["start"] is None  # the whole data file unless a window is set


def test_config_show_file_resolves_env_and_masks_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    monkeypatch.setenv("TB_SYMBOL", "ETH/USDT")
    monkeypatch.setenv("BINANCE_API_KEY", SECRET)
    monkeypatch.setenv("BINANCE_API_SECRET", SECRET + "-2")
    monkeypatch.setenv("PGPASSWORD", SECRET)
    path = write(
        tmp_path,
        "trading: {symbol: '${TB_SYMBOL}'}\n"
        "exchange: {api_key: '${BINANCE_API_KEY}', api_secret: '${BINANCE_API_SECRET}'}\n"
        "database: {url: 'postgresql+psycopg://bot:${PGPASSWORD}@db.local:5432/tb'}\n",
    )

    # Act
    code, output = run("config", "show", str(path))

    # Assert
    assert code == 0
    assert SECRET not in output
    shown = yaml.safe_load(output)
    assert shown["trading"]["symbol"] == "ETH/USDT"
    assert shown["exchange"]["api_key"] == MASK
    assert shown["exchange"]["api_secret"] == "**********"
    assert shown["database"]["url"] == "postgresql+psycopg://bot:**********@db.local:5432/tb"


def test_config_show_output_loads_back_as_the_same_config(tmp_path: Path) -> None:
    source = write(tmp_path, "risk: {max_daily_loss: 123.45, atr_period: 21}\n", "in.yaml")
    code, output = run("config", "show", str(source))

    again = load_config(write(tmp_path, output, "out.yaml"))

    assert code == 0
    assert again == load_config(source)
    assert str(again.risk.max_daily_loss) == "123.45"


def test_config_show_invalid_file_exits_1_with_problems(tmp_path: Path) -> None:
    path = write(tmp_path, f"risk: {{risk_per_trade: 5}}\nexchange: {{api_kee: '{SECRET}'}}\n")

    code, output = run("config", "show", str(path))

    assert code == 1
    assert "`risk.risk_per_trade` = 5" in output
    assert "unknown key `exchange.api_kee`; did you mean `api_key`?" in output
    assert SECRET not in output


# --- config validate ------------------------------------------------------------------------


def test_config_validate_good_file_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, "strategy: {name: ema_crossover}\ntrading: {timeframe: 4h}\n")

    code, output = run("config", "validate", str(path))

    assert code == 0
    assert "valid (mode paper, BTC/USDT 4h, strategy ema_crossover)" in output


def test_config_validate_bad_value_exits_1(tmp_path: Path) -> None:
    code, output = run("config", "validate", str(write(tmp_path, "trading: {timeframe: 2d}\n")))

    assert code == 1
    assert "`trading.timeframe` = '2d': allowed: 1m" in output


def test_config_validate_unknown_strategy_exits_1(tmp_path: Path) -> None:
    code, output = run("config", "validate", str(write(tmp_path, "strategy: {name: no_such}\n")))

    assert code == 1
    assert "`strategy`" in output
    assert "no_such" in output


def test_config_validate_builds_every_ensemble_member_and_override(tmp_path: Path) -> None:
    good = (
        "trading: {symbols: [BTC/USDT, ETH/USDT]}\n"
        "strategy:\n  ensemble: {mode: vote, members: [{name: breakout}, {name: ema_crossover}]}\n"
        "  symbols:\n    ETH/USDT: {name: rsi_mean_reversion}\n"
    )
    bad_member = good.replace("{name: ema_crossover}", "{name: ema_crossover, params: {x: 1}}")
    bad_override = good.replace("trading: {symbols: [BTC/USDT, ETH/USDT]}", "")

    ok = run("config", "validate", str(write(tmp_path, good)))
    member = run("config", "validate", str(write(tmp_path, bad_member, "member.yaml")))
    override = run("config", "validate", str(write(tmp_path, bad_override, "override.yaml")))

    assert ok == (0, ok[1])
    assert "BTC/USDT, ETH/USDT 1h, strategy ensemble" in ok[1]
    assert member[0] == 1
    assert (
        "`strategy.ensemble.members[1]`: strategy 'ema_crossover' has no parameter x" in (member[1])
    )
    assert override[0] == 1
    assert "strategy.symbols gives ETH/USDT a strategy, but only BTC/USDT" in override[1]


def test_config_validate_missing_file_exits_1(tmp_path: Path) -> None:
    code, output = run("config", "validate", str(tmp_path / "absent.yaml"))

    assert code == 1
    assert "config file not found" in output


# --- credentials ----------------------------------------------------------------------------


def test_load_credentials_from_config_values() -> None:
    config = Config.model_validate({"exchange": {"api_key": "k1", "api_secret": SECRET}})

    assert load_credentials(config, environ={}) == ("k1", SECRET)


def test_load_credentials_from_yaml_file(tmp_path: Path) -> None:
    creds = write(tmp_path, f"api_key: k2\napi_secret: {SECRET}\n", "creds.yaml")
    config = Config.model_validate({"exchange": {"credentials_file": str(creds)}})

    assert load_credentials(config, environ={}) == ("k2", SECRET)


def test_load_credentials_from_env_style_file(tmp_path: Path) -> None:
    text = f"# binance\nexport BINANCE_API_KEY=k3\nBINANCE_API_SECRET='{SECRET}'\n"
    creds = write(tmp_path, text, "binance.env")
    config = Config.model_validate({"exchange": {"credentials_file": str(creds)}})

    assert load_credentials(config, environ={}) == ("k3", SECRET)


def test_load_credentials_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    creds = write(tmp_path, f"api_key: k\napi_secret: {SECRET}\n", "creds.yaml", mode=0o644)
    config = Config.model_validate({"exchange": {"credentials_file": str(creds)}})

    with pytest.raises(ConfigError, match="chmod 600") as info:
        load_credentials(config, environ={})
    assert SECRET not in str(info.value)


def test_load_credentials_file_without_secret_names_what_is_missing(tmp_path: Path) -> None:
    creds = write(tmp_path, "api_key: k\n", "creds.yaml")
    config = Config.model_validate({"exchange": {"credentials_file": str(creds)}})

    with pytest.raises(ConfigError, match="missing: api_secret"):
        load_credentials(config, environ={})


def test_load_credentials_from_environment_variables() -> None:
    env = {"BINANCE_API_KEY": "k4", "BINANCE_API_SECRET": SECRET}

    assert load_credentials(Config(), environ=env) == ("k4", SECRET)


def test_load_credentials_half_set_environment_is_an_error() -> None:
    with pytest.raises(ConfigError, match="BINANCE_API_SECRET is not set"):
        load_credentials(Config(), environ={"BINANCE_API_KEY": "k"})


def test_load_credentials_none_configured_returns_none() -> None:
    assert load_credentials(Config(), environ={}) is None


# --- docs -----------------------------------------------------------------------------------


def _leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += _leaf_paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def test_docs_config_md_documents_every_key() -> None:
    text = DOCS.read_text(encoding="utf-8")

    missing = [path for path in _leaf_paths(Config) if f"| `{path}` |" not in text]

    assert len(_leaf_paths(Config)) > 70
    assert missing == []
