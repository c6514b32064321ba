"""The ``services:`` section: the Redis password stays out of URLs, logs and dumps; the
settings the services cannot act on safely are refused with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.cli.serve_session import _connector
from tradebot.config import load_config
from tradebot.domain.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "config.yaml", mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_services_bus_password_from_env_is_read_and_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    monkeypatch.setenv("TRADEBOT_REDIS_PASSWORD", "s3cret-bus-pw")
    path = write(
        tmp_path,
        "services:\n  bus:\n    url: redis://127.0.0.1:6380/2\n"
        "    password: ${TRADEBOT_REDIS_PASSWORD}\n",
    )
    # Act
    bus = load_config(path).services.bus
    shown = CliRunner().invoke(build_app(), ["config", "show", str(path)]).output
    # Assert
    assert (bus.host, bus.port, bus.db, bus.secret()) == ("127.0.0.1", 6380, 2, "s3cret-bus-pw")
    assert "s3cret-bus-pw" not in shown
    assert "redis://127.0.0.1:6380/2" in shown


def test_services_bus_password_file_read_and_shared_file_refused(tmp_path: Path) -> None:
    # Arrange
    secret = write(tmp_path, "file-pw\n", "redis.password")
    shared = write(tmp_path, "file-pw\n", "shared.password", mode=0o644)
    good = write(tmp_path, f"services:\n  bus:\n    password_file: {secret}\n")
    bad = write(tmp_path, f"services:\n  bus:\n    password_file: {shared}\n", "bad.yaml")
    # Act / Assert
    assert load_config(good).services.bus.secret() == "file-pw"
    with pytest.raises(ConfigError, match="readable by other users; run `chmod 600"):
        load_config(bad).services.bus.secret()


@pytest.mark.parametrize(
    ("bus", "message"),
    [
        ('url: "redis://:pw@127.0.0.1:6379/0"', "must not carry a user or password"),
        ("url: http://127.0.0.1:6379", "must be redis://host:port/db"),
        ("url: redis://10.0.0.5:6379/0", "reached over the network without a password"),
        ("{password: a, password_file: /x}", "set password or password_file, not both"),
    ],
)
def test_services_bus_unsafe_settings_refused(tmp_path: Path, bus: str, message: str) -> None:
    # Arrange
    body = (
        f"services:\n  bus: {bus}\n" if bus.startswith("{") else f"services:\n  bus:\n    {bus}\n"
    )
    path = write(tmp_path, body)
    # Act / Assert
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_serve_execution_with_embedded_sandbox_refused_saying_what_to_do(tmp_path: Path) -> None:
    # Arrange: the default paper config embeds a sandbox, which services cannot share
    path = write(tmp_path, "exchange:\n  mode: paper\n")
    # Act
    result = CliRunner().invoke(
        build_app(), ["serve", "execution", "-c", str(path), "--db", str(tmp_path / "b.db")]
    )
    # Assert
    assert result.exit_code == 2
    assert "set exchange.sandbox.embedded: false" in result.output
    assert "tradebot sandbox" in result.output


async def test_serve_live_market_data_needs_no_keys_execution_needs_keys_and_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: live, no credentials anywhere (market data is public; orders are not)
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_API_SECRET", raising=False)
    config = load_config(write(tmp_path, "exchange:\n  mode: live\n"))
    # Act
    public = _connector(config, public=True)
    await public.close()
    with pytest.raises(ConfigError) as refused:
        _connector(config)
    # Assert
    assert "BINANCE_API_KEY" in str(refused.value)
    assert "--i-understand-this-trades-real-money" in str(refused.value)
