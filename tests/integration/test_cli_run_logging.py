"""``tradebot run`` logs as monitoring.log_level and log_format say, unless told otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from processes import NO_KEYS
from tradebot.cli import build_app

CONFIG = (
    "exchange:\n  sandbox:\n    port: 0\n"
    "strategy:\n  params: {fast_period: 3, slow_period: 8, rsi_threshold: 100}\n"
    "monitoring:\n  log_level: INFO\n  log_format: json\n"
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def replay(tmp_path: Path, *global_options: str) -> tuple[int, str]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    args = [*global_options, "run", "--mode", "paper", "--replay", "--bars", "40", "-c",
            str(config), "--db", str(tmp_path / "bot.db")]  # fmt: skip
    result = CliRunner().invoke(build_app(), args, env=NO_KEYS)
    return result.exit_code, result.stderr


def test_run_logs_the_trade_log_as_json_lines_at_the_configured_level(tmp_path: Path) -> None:
    # Act: no --log-level on the command line
    code, err = replay(tmp_path)
    # Assert
    assert code == 0, err
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    sent = [x for x in lines if x["event"] == "order sent"]
    assert sent
    assert all(x["level"] == "info" and x["logger"] == "tradebot.trades" for x in sent)


def test_run_log_level_option_wins_over_the_config(tmp_path: Path) -> None:
    code, err = replay(tmp_path, "--log-level", "WARNING")
    assert code == 0, err
    assert "order sent" not in err
