"""RedisSettings: the bus refuses to run open, and never shows its password."""

from __future__ import annotations

import pytest

from tradebot.domain.errors import ConfigError
from tradebot.services.bus.redis_streams import RedisSettings


def test_redis_settings_without_password_are_refused_naming_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1:6379 has no password: set requirepass"):
        RedisSettings()


def test_redis_settings_repr_hides_the_password() -> None:
    settings = RedisSettings(password="s3cret-bus-password")

    assert "s3cret-bus-password" not in repr(settings)
    assert settings.server == "127.0.0.1:6379"
