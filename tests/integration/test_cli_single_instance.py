"""One ``tradebot run`` per database: a second is refused while the first trades.

The first bot is a real process (its embedded sandbox on a free port); the second is the
CLI in this process, as a person would start it by mistake on the same ``--db``.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from typer.testing import CliRunner

from processes import NO_KEYS, paper_bot_process
from tradebot.cli import build_app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), env=NO_KEYS)
    return result.exit_code, result.output


def test_run_second_bot_on_one_database_is_refused_until_the_first_is_killed(
    tmp_path: Path,
) -> None:
    # Arrange: a paper bot trading on bot.db
    config = tmp_path / "second.yaml"
    config.write_text("exchange:\n  sandbox:\n    port: 0\n", encoding="utf-8")
    with paper_bot_process(tmp_path) as bot:
        second = ("run", "--mode", "paper", "--replay", "--bars", "2", "-c", str(config))
        before = bot.db.stat().st_mtime_ns
        # Act
        code, output = invoke(*second, "--db", str(bot.db))
        status_code, status_output = invoke("status", "--db", str(bot.db))
        # Assert: refused, naming the holder; reading needs no lock
        assert code == 2, output
        assert f"PID {bot.proc.pid} on host {socket.gethostname()}" in " ".join(output.split())
        assert "Traceback" not in output
        assert "kill switch" in status_output, status_output
        assert status_code == 0
        assert bot.proc.poll() is None, "the first bot trades on"
        # Act: the holder dies without any chance to clean up
        bot.proc.send_signal(signal.SIGKILL)
        bot.proc.wait(timeout=30)
        after_code, after_output = invoke(*second, "--db", str(bot.db))
    # Assert: no stale lock, the next bot starts at once
    assert after_code == 0, after_output
    assert "in use" not in after_output
    assert bot.db.stat().st_mtime_ns >= before
