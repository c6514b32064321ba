"""``tradebot monitor`` and ``tradebot dashboard`` log as monitoring.log_level and log_format
say (as ``tradebot run`` and ``tradebot serve`` do), unless the command line says otherwise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from processes import NO_KEYS, eventually
from tradebot.state import Repository, create_database

JSON_INFO = "monitoring:\n  log_level: INFO\n  log_format: json\n  dashboard: {port: 0}\n"


def _lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]


def _logged(tmp_path: Path, *args: str, event: str, config_yaml: str = JSON_INFO) -> str:
    # The command on a fresh bot database until its log says ``event`` (or 30 s), then
    # SIGTERM; everything it printed.
    config, db, log = tmp_path / "config.yaml", tmp_path / "bot.db", tmp_path / "out.txt"
    config.write_text(config_yaml, encoding="utf-8")
    Repository(create_database(db))
    command = [sys.executable, "-c", "from tradebot.cli import main; main()"]
    env = {**os.environ, **NO_KEYS, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, *args, "-c", str(config), "--db", str(db)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        eventually(lambda: any(x["event"] == event for x in _lines(log)), log.read_text)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)  # uvicorn re-raises the SIGTERM it handled: no exit code to hold
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return log.read_text()


def test_monitor_logs_json_lines_at_the_configured_level(tmp_path: Path) -> None:
    # Act: no --log-level on the command line
    output = _logged(tmp_path, "monitor", event="monitor started")
    # Assert
    (started,) = [x for x in _lines(tmp_path / "out.txt") if x["event"] == "monitor started"]
    assert started["level"] == "info"
    assert started["logger"] == "tradebot.monitor"
    assert "monitoring; Ctrl-C stops" in output


def test_dashboard_logs_json_lines_at_the_configured_level(tmp_path: Path) -> None:
    # Act
    _logged(tmp_path, "dashboard", event="dashboard serving")
    # Assert
    (serving,) = [x for x in _lines(tmp_path / "out.txt") if x["event"] == "dashboard serving"]
    assert serving["level"] == "info"
    assert str(serving["url"]).startswith("http://127.0.0.1:")
