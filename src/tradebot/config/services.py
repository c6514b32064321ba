"""The ``services:`` section: the event bus and the services of the distributed deployment.

Read only by ``tradebot serve``; the single process (``tradebot run``) has no bus. The Redis
password is a secret like the exchange keys: write ``password: ${TRADEBOT_REDIS_PASSWORD}``
(interpolated from the environment) or name a ``password_file`` (chmod 600); it is masked in
every dump and log line, and a URL carrying one is refused, so it never sits in plain text
in the config.
"""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from tradebot.config.base import Section
from tradebot.config.source import read_text, refuse_shared_file

_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class BusConfig(Section):
    """The Redis server the services talk through."""

    url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="redis://host:port/db, without the password (see password).",
    )
    password: SecretStr | None = Field(
        default=None, description="Redis requirepass; write ${TRADEBOT_REDIS_PASSWORD}."
    )
    password_file: Path | None = Field(
        default=None, description="File holding the Redis password on its first line (chmod 600)."
    )
    prefix: str = Field(
        default="tradebot",
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Stream names are <prefix>:<family>; one prefix per deployment.",
    )
    maxlen: int = Field(
        default=100_000, ge=1_000, description="Messages a stream keeps (MAXLEN ~)."
    )
    claim_idle_s: float = Field(
        default=30.0,
        gt=0,
        le=3_600,
        description="A message a dead consumer left pending this long is taken over.",
    )

    retry_for_s: float = Field(
        default=60.0,
        gt=0,
        le=3_600,
        description="A call Redis does not answer is retried this long; then the service "
        "logs the outage and polls again every 5 s.",
    )

    @field_validator("url")
    @classmethod
    def _url_form(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "redis" or not parts.hostname:
            msg = "must be redis://host:port/db, e.g. redis://127.0.0.1:6379/0"
            raise ValueError(msg)
        if parts.password is not None or parts.username is not None:
            msg = (
                "must not carry a user or password; write password: "
                "${TRADEBOT_REDIS_PASSWORD} or password_file instead"
            )
            raise ValueError(msg)
        db = parts.path.strip("/") or "0"
        if not db.isdigit():
            msg = f"database {db!r} must be a number, e.g. redis://127.0.0.1:6379/0"
            raise ValueError(msg)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
        return value

    @model_validator(mode="after")
    def _a_password_where_it_matters(self) -> BusConfig:
        if self.password is not None and self.password_file is not None:
            msg = "set password or password_file, not both"
            raise ValueError(msg)
        if not _is_loopback(self.host) and self.password is None and self.password_file is None:
            msg = (
                f"Redis at {self.host} is reached over the network without a password: set "
                "password (${TRADEBOT_REDIS_PASSWORD}) or password_file"
            )
            raise ValueError(msg)
        return self

    @property
    def host(self) -> str:
        """The server's host name or address."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The server's port (6379 when the URL names none)."""
        return urlsplit(self.url).port or 6379

    @property
    def db(self) -> int:
        """The Redis database number."""
        return int(urlsplit(self.url).path.strip("/") or "0")

    def secret(self) -> str:
        """The password ("" for none), read from ``password`` or ``password_file``.

        Raises:
            ConfigError: the file is missing, unreadable or readable by others.
        """
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is None:
            return ""
        text = read_text(self.password_file)
        refuse_shared_file(self.password_file)
        return text.strip().splitlines()[0] if text.strip() else ""


class MarketDataServiceConfig(Section):
    """``tradebot serve market-data``."""

    poll_interval_s: float = Field(
        default=5.0, gt=0, le=300, description="Seconds between REST asks for closed candles."
    )
    websocket: bool = Field(
        default=True, description="Wake on the exchange's candle stream as well as the timer."
    )


class ExecutionServiceConfig(Section):
    """``tradebot serve execution``."""

    max_signal_age_s: float = Field(
        default=300.0,
        gt=0,
        description="A signal whose bar was seen closed longer ago than this is never traded.",
    )
    sync_interval_s: float = Field(
        default=10.0, gt=0, le=3_600, description="Seconds between syncs of fills and orders."
    )


class ServicesConfig(Section):
    """The distributed deployment (``tradebot serve``); the single process ignores it."""

    bus: BusConfig = Field(default_factory=BusConfig)
    market_data: MarketDataServiceConfig = Field(default_factory=MarketDataServiceConfig)
    execution: ExecutionServiceConfig = Field(default_factory=ExecutionServiceConfig)
