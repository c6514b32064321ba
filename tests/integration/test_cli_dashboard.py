"""``tradebot dashboard``, the dashboard inside ``tradebot run``, and the audited CLI controls."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from typer.testing import CliRunner

from processes import eventually, paper_bot_process
from tradebot.cli import build_app
from tradebot.state import KillSwitchLevel, Repository, create_database


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), input=stdin)
    return result.exit_code, result.output


def test_stop_entries_sets_reducing_and_every_cli_control_is_audited(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    repo = Repository(create_database(db))
    # Act
    code, output = invoke("stop", "--entries", "--db", str(db))
    resume_code, _ = invoke("resume", "--db", str(db))
    # Assert
    assert code == 0, output
    assert "kill switch REDUCING (was ACTIVE)" in output
    assert resume_code == 0
    assert repo.kill_switch() is KillSwitchLevel.ACTIVE
    audit = [(r.actor, r.channel, r.action, r.kill_switch_after) for r in repo.control_actions()]
    user = getpass.getuser()
    assert audit == [(user, "cli", "resume", "ACTIVE"), (user, "cli", "stop_entries", "REDUCING")]


def test_hash_password_prints_an_argon2_hash_of_the_password() -> None:
    # Act
    code, output = invoke("dashboard", "hash-password", "--stdin", stdin="correct horse\n")
    short_code, short = invoke("dashboard", "hash-password", "--stdin", stdin="short\n")
    # Assert
    assert code == 0, output
    hashed = output.strip()
    assert hashed.startswith("$argon2id$")
    assert PasswordHasher().verify(hashed, "correct horse")
    assert short_code == 2
    assert "at least 8 characters" in short


def test_dashboard_on_a_public_address_without_users_is_refused(tmp_path: Path) -> None:
    # Arrange
    db = tmp_path / "bot.db"
    Repository(create_database(db))
    # Act
    code, output = invoke("dashboard", "--db", str(db), "--host", "0.0.0.0", "--allow-remote")
    # Assert
    assert code == 2
    assert "not loopback" in output
    assert "monitoring.dashboard.users" in output


def test_run_with_dashboard_enabled_serves_the_running_bot(tmp_path: Path) -> None:
    # Arrange: monitoring.dashboard as the README shows it, on a free port
    dashboard = "monitoring:\n  dashboard:\n    enabled: true\n    port: 0\n"
    with paper_bot_process(tmp_path, config_yaml=dashboard) as bot:
        eventually(lambda: "dashboard on http://" in bot.output(), bot.output)
        found = re.search(r"dashboard on (http://127\.0\.0\.1:\d+)", bot.output())
        assert found is not None, bot.output()
        url = found.group(1)

        def decided(count: int) -> bool:
            return len(httpx.get(f"{url}/api/decisions", params={"limit": 5}).json()) >= count

        # Act / Assert: the page, the API and the live decisions of the bot
        assert "tradebot dashboard" in httpx.get(url).text
        eventually(lambda: decided(2), bot.output)
        health = httpx.get(f"{url}/api/health").json()
        assert health["status"] == "ok"
        assert health["kill_switch"] == "ACTIVE"
        assert bot.terminate() == 0
