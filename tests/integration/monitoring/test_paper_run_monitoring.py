"""``tradebot run --mode paper`` with the documented monitoring config: trade notices reach the
Telegram stand-in and the SMTP server, commands are answered, /stop acts through the database,
and a clean stop leaves no "stopped unexpectedly" alert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from processes import NO_KEYS, eventually
from smtp_standin import smtp_standin
from telegram_standin import telegram_standin
from tradebot.domain.decisions import KillSwitch
from tradebot.state import create_database
from tradebot.state.outbox import AlertOutbox
from tradebot.state.repository import Repository

TOKEN, CHAT, OPERATOR = "31337:paper-run-token", "-1003", "7"


def _config(tmp_path: Path, telegram_url: str, smtp_port: int, ca_file: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
exchange: {{sandbox: {{port: 0}}}}
trading: {{cycle_interval_s: 1}}
strategy:
  name: ema_crossover
  params: {{fast_period: 2, slow_period: 3, rsi_threshold: 100}}
monitoring:
  telegram_token: {TOKEN}
  telegram_chat_id: "{CHAT}"
  telegram_api_url: {telegram_url}
  telegram_chats: {{"{CHAT}": operator}}
  telegram_users: {{"{OPERATOR}": operator}}
  email:
    smtp_host: 127.0.0.1
    smtp_port: {smtp_port}
    from_addr: bot@example.com
    to_addrs: [you@example.com]
    ca_file: {ca_file}
  alerts:
    check_interval_s: 0.5
    email: {{trade_opened: on, trade_closed: on}}
""",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def test_paper_run_sends_trade_notices_answers_commands_and_stops_cleanly(tmp_path: Path) -> None:
    db, log = tmp_path / "bot.db", tmp_path / "out.txt"
    with telegram_standin(TOKEN, CHAT) as telegram, smtp_standin(tmp_path) as (inbox, port, ca):
        config = _config(tmp_path, telegram.url, port, ca)
        command = [sys.executable, "-c", "from tradebot.cli import main; main()", "run"]
        args = ["--mode", "paper", "-c", str(config), "--db", str(db), "--speed", "3600"]
        env = {**os.environ, **NO_KEYS, "PYTHONUNBUFFERED": "1"}
        with log.open("w") as out:
            proc = subprocess.Popen(
                [*command, *args], stdout=out, stderr=subprocess.STDOUT, env=env
            )
        try:
            # Act: let it trade a round trip, then talk to it.
            def notices() -> bool:
                assert proc.poll() is None, log.read_text()  # it must not have exited
                texts = "\n".join(telegram.texts(CHAT))
                return "<b>Opened BTC/USDT</b>" in texts and "<b>Closed BTC/USDT" in texts

            eventually(notices, log.read_text, timeout_s=90)
            eventually(lambda: len(inbox.messages) >= 2, log.read_text)
            telegram.push_message(CHAT, OPERATOR, "/status")
            eventually(
                lambda: any("kill switch ACTIVE" in t for t in telegram.texts()), log.read_text
            )
            telegram.push_message(CHAT, OPERATOR, "/stop")
            repo = Repository(create_database(db))
            eventually(lambda: repo.kill_switch() is KillSwitch.HALTED, log.read_text)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Assert
    assert code == 0, log.read_text()
    subjects = [m.get("Subject", "").strip() for _e, m, _tls in inbox.messages]
    assert "[tradebot info] Opened BTC/USDT" in subjects
    assert repo.kill_switch_reason() == f"/stop by telegram user {OPERATOR}"
    assert telegram.problems == []
    rules = {e.rule for e in AlertOutbox(create_database(db)).recent(200)}
    assert "bot_stopped" not in rules
    assert TOKEN not in log.read_text()
