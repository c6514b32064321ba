"""``tradebot run --replay`` is a paper session: the config's monitoring acts on it as on a
run in real time (alerts delivered, ``/metrics`` served), never silently ignored."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from processes import NO_KEYS
from smtp_standin import smtp_standin
from tradebot.cli import build_app
from tradebot.state import Repository, create_database


def _config(tmp_path: Path, smtp_port: int, ca_file: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
exchange: {{sandbox: {{port: 0}}}}
strategy:
  params: {{fast_period: 3, slow_period: 8, rsi_threshold: 100}}
monitoring:
  metrics_port: 0
  email:
    smtp_host: 127.0.0.1
    smtp_port: {smtp_port}
    from_addr: bot@example.com
    to_addrs: [you@example.com]
    ca_file: {ca_file}
  alerts:
    email: {{trade_closed: on}}
""",
        encoding="utf-8",
    )
    return path


def test_replay_delivers_alerts_and_serves_metrics(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    with smtp_standin(tmp_path) as (inbox, port, ca):
        config = _config(tmp_path, port, ca)
        # Act
        args = ["run", "--mode", "paper", "--replay", "--bars", "60", "-c", str(config)]
        result = CliRunner().invoke(build_app(), [*args, "--db", str(db)], env=NO_KEYS)
    # Assert: the trade notices the config asked for reached the SMTP server
    assert result.exit_code == 0, result.output
    assert re.search(r"Prometheus metrics on http://127\.0\.0\.1:\d+/metrics", result.output)
    subjects = [m.get("Subject", "").strip() for _e, m, _tls in inbox.messages]
    closed = [s for s in subjects if s.startswith("[tradebot info] Closed BTC/USDT")]
    trades = Repository(create_database(db)).trades()
    assert len(closed) == len(trades) > 0
