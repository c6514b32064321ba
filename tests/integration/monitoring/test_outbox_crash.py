"""A sender killed mid-delivery delivers each alert exactly once after a restart.

Real processes: ``tradebot monitor`` sends the outbox of a bot database to a stand-in Bot
API; the test SIGKILLs it while it waits out a 429 in the middle of a three-part alert, then
starts it again and reads what the stand-in received.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from processes import NO_KEYS, eventually
from telegram_standin import TelegramStandIn, telegram_standin
from tradebot.domain.alerts import Alert, AlertRule
from tradebot.state import create_database
from tradebot.state.outbox import AlertOutbox

TOKEN, CHAT = "555:crash-test-token", "-1002"


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "monitoring:\n"
        f"  telegram_token: {TOKEN}\n"
        f"  telegram_chat_id: '{CHAT}'\n"
        f"  telegram_api_url: {url}\n"
        "  alerts:\n"
        "    check_interval_s: 0.2\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def _start(config: Path, db: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from tradebot.cli import main; main()"]
    args = ["monitor", "--config", str(config), "--db", str(db)]
    env = {**os.environ, **NO_KEYS, "PYTHONUNBUFFERED": "1"}
    with log.open("a") as out:
        return subprocess.Popen([*command, *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def _first_lines(standin: TelegramStandIn) -> list[str]:
    return [t.split("\n")[0] for t in standin.texts()]


def test_monitor_sigkilled_during_a_retry_delivers_every_part_exactly_once(tmp_path: Path) -> None:
    # Arrange: three alerts in the outbox, the second in three parts.
    db, log = tmp_path / "bot.db", tmp_path / "monitor.log"
    outbox = AlertOutbox(create_database(db))
    long_body = "\n".join(f"{i:05d} discrepancy & <detail>" for i in range(250))
    alerts = [
        Alert(AlertRule.ORDER_FAILED, "tb-1", "first", "one"),
        Alert(AlertRule.RECONCILIATION_HALT, "x", "second", long_body),
        Alert(AlertRule.TRADE_CLOSED, "t", "third", "three"),
    ]
    outbox.raise_alerts([(a, {"telegram": False}) for a in alerts], 0)
    with telegram_standin(TOKEN, CHAT) as standin:
        standin.script(200)
        standin.script(200)
        # The second part of the long alert: a 4 s pause leaves a loaded machine time to see
        # the part recorded and kill the sender before it retries.
        standin.script(429, retry_after=4)
        config = _config(tmp_path, standin.url)
        procs = [_start(config, db, log)]
        try:
            # Act: kill it while it waits out the 429, one part of three recorded.
            def waiting() -> bool:
                parts = [e for e in outbox.recent() if e.title == "second"]
                return len(standin.requests) == 3 and parts[0].attempts == 1

            eventually(waiting, log.read_text)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(10)
            procs.append(_start(config, db, log))
            eventually(lambda: outbox.counts()["pending"] == 0, log.read_text)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(10)
    # Assert: five messages, each once, in order; nothing refused as malformed.
    lines = _first_lines(standin)
    assert lines[0] == "\U0001f6a8 <b>first</b>"
    assert lines[1] == "(1/3) \U0001f6a8 <b>second</b>"
    assert lines[2:4] == ["(2/3)", "(3/3)"]
    assert lines[4] == "\u2139\ufe0f <b>third</b>"
    assert len(lines) == 5
    assert standin.problems == []
    assert outbox.counts() == {"pending": 0, "sent": 3, "failed": 0}
    assert TOKEN not in log.read_text()
