"""The dashboard's security rules on their own: bind policy, sessions, masked live log."""

from __future__ import annotations

import logging

import pytest
import structlog
from argon2 import PasswordHasher
from pydantic import SecretStr

from tradebot.config.monitoring import DashboardConfig, DashboardUser, is_loopback
from tradebot.domain.errors import ConfigError
from tradebot.monitoring.dashboard import LogBuffer, check_bind
from tradebot.monitoring.dashboard.auth import Authenticator, Role
from tradebot.monitoring.logging import configure_logging

HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def operator_user() -> DashboardUser:
    return DashboardUser(
        name="olga", password_hash=SecretStr(HASH.hash("pw-olga-1")), role="operator"
    )


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("example.org", False),
])  # fmt: skip
def test_is_loopback_by_address(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_check_bind_non_loopback_without_users_or_flag_is_refused_naming_both() -> None:
    # Arrange
    settings = DashboardConfig(host="0.0.0.0")
    # Act
    with pytest.raises(ConfigError) as refused:
        check_bind(settings)
    # Assert
    assert "0.0.0.0" in str(refused.value)
    assert "monitoring.dashboard.users" in str(refused.value)
    assert "--allow-remote" in str(refused.value)


def test_check_bind_non_loopback_needs_users_and_the_explicit_flag() -> None:
    # Arrange
    with_users = DashboardConfig(host="0.0.0.0", users=[operator_user()])
    flag_only = DashboardConfig(host="0.0.0.0", allow_remote=True)
    # Act / Assert
    with pytest.raises(ConfigError, match="--allow-remote"):
        check_bind(with_users)
    with pytest.raises(ConfigError, match="users"):
        check_bind(flag_only)
    check_bind(with_users, allow_remote=True)
    check_bind(DashboardConfig(host="0.0.0.0", users=[operator_user()], allow_remote=True))
    check_bind(DashboardConfig())


def test_config_refuses_a_password_in_place_of_a_hash() -> None:
    with pytest.raises(ValueError, match="hash-password"):
        DashboardUser(name="olga", password_hash=SecretStr("hunter22"))


def test_session_ends_after_its_ttl() -> None:
    # Arrange
    now = [1_000_000]
    auth = Authenticator([operator_user()], session_ttl_s=60, now_ms=lambda: now[0])
    token = auth.login("olga", "pw-olga-1")
    assert token is not None
    # Act
    before = auth.principal(token)
    now[0] += 60_000
    after = auth.principal(token)
    # Assert
    assert before is not None
    assert (before.name, before.role, before.may_operate) == ("olga", Role.OPERATOR, True)
    assert after is None
    assert auth.login("olga", "wrong") is None
    assert auth.login("nobody", "pw-olga-1") is None


def test_log_buffer_masks_secrets_of_structlog_and_stdlib_records() -> None:
    # Arrange: logging as the CLI sets it up, unaware of this secret
    configure_logging("INFO")
    logs = LogBuffer(["sk-live-0123456789"])
    logs.attach()
    try:
        # Act
        structlog.get_logger("tradebot.test").warning("key leaked", key="sk-live-0123456789")
        logging.getLogger("tradebot.test").warning("sent with sk-live-0123456789 in it")
    finally:
        logs.detach()
    # Assert
    lines = [line for _, line in logs.since(0)]
    assert len(lines) == 2
    assert "sk-live-0123456789" not in repr(lines)
    assert lines[0]["key"] == "**********"


def test_five_wrong_passwords_lock_the_name_for_five_minutes() -> None:
    # Arrange
    now = [1_000_000]
    auth = Authenticator([operator_user()], session_ttl_s=60, now_ms=lambda: now[0])
    # Act
    for _ in range(5):
        assert auth.login("olga", "guess") is None
    while_locked = auth.login("olga", "pw-olga-1")
    now[0] += 300_000
    after = auth.login("olga", "pw-olga-1")
    # Assert
    assert while_locked is None  # even the right password, while locked
    assert after is not None
