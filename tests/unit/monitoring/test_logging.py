"""Logging set-up: levels, JSON lines, and secrets that never reach the log."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from typer.testing import CliRunner

from tradebot.cli import build_app
from tradebot.monitoring.logging import MASK, configure_logging

SECRET = "sk-live-0123456789abcdef"


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    yield
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def test_configure_logging_secret_in_event_field_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange
    configure_logging("INFO", "json", secrets=[SECRET])
    # Act
    structlog.get_logger("tradebot.test").warning("auth failed", key=SECRET, url=f"x?k={SECRET}")
    # Assert
    line = capsys.readouterr().err.strip()
    record = json.loads(line)
    assert SECRET not in line
    assert record["key"] == MASK
    assert record["url"] == f"x?k={MASK}"
    assert record["event"] == "auth failed"


def test_configure_logging_stdlib_message_with_secret_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "console", secrets=[SECRET])
    logging.getLogger("ccxt").error("request failed: apiKey=%s", SECRET)
    err = capsys.readouterr().err
    assert "request failed" in err
    assert SECRET not in err
    assert MASK in err


def test_configure_logging_level_warning_drops_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", "json")
    log = structlog.get_logger("tradebot.test")
    log.info("quiet")
    log.warning("loud")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    assert [x["event"] for x in lines] == ["loud"]
    assert lines[0]["level"] == "warning"


def test_cli_logging_masks_keys_taken_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: a key that a config would read through ${BINANCE_API_SECRET}
    monkeypatch.setenv("BINANCE_API_SECRET", SECRET)
    result = CliRunner().invoke(build_app(), ["--log-level", "INFO", "strategies"])
    assert result.exit_code == 0
    # Act
    logging.getLogger("ccxt").warning("signed with %s", SECRET)
    # Assert
    err = capsys.readouterr().err
    assert "signed with" in err
    assert SECRET not in err
