"""The monitoring section: logs, metrics, dashboard, alert channels and alert thresholds."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from tradebot.config.base import Section
from tradebot.domain.alerts import AlertRule

AlertMode = Literal["on", "silent", "off"]
Role = Literal["viewer", "operator"]
_RULES = tuple(rule.value for rule in AlertRule)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmailConfig(Section):
    """SMTP settings for e-mail alerts; off while ``smtp_host`` is unset."""

    smtp_host: str | None = Field(default=None, description="SMTP server; unset disables e-mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    username: str | None = Field(default=None, description="SMTP login.")
    password: SecretStr | None = Field(
        default=None, description="SMTP password; write ${SMTP_PASSWORD}."
    )
    from_addr: str | None = Field(default=None, description="Sender address.")
    to_addrs: list[str] = Field(default_factory=list, description="Recipients.")
    use_tls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="SMTP timeout.")
    ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the server's certificate (own servers).",
    )

    @field_validator("from_addr")
    @classmethod
    def _from_is_address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            msg = "must be an e-mail address like bot@example.com"
            raise ValueError(msg)
        return value

    @field_validator("to_addrs")
    @classmethod
    def _to_are_addresses(cls, value: list[str]) -> list[str]:
        bad = [addr for addr in value if "@" not in addr]
        if bad:
            msg = f"must be e-mail addresses like you@example.com; not: {', '.join(bad)}"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _complete_when_on(self) -> EmailConfig:
        if self.smtp_host is not None and (self.from_addr is None or not self.to_addrs):
            msg = "with smtp_host set, from_addr and at least one of to_addrs are needed"
            raise ValueError(msg)
        return self


class DashboardUser(Section):
    """A person who may log in to the dashboard, with an Argon2 hash of their password."""

    name: str = Field(min_length=1, max_length=64, description="Login name.")
    password_hash: SecretStr = Field(
        description="Argon2 hash from `tradebot dashboard hash-password` (never the password)."
    )
    role: Literal["viewer", "operator"] = Field(
        default="viewer", description="viewer reads; operator may also use the controls."
    )

    @field_validator("password_hash")
    @classmethod
    def _is_argon2(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("$argon2"):
            msg = (
                "must be an Argon2 hash ($argon2id$...): make one with "
                "`tradebot dashboard hash-password`"
            )
            raise ValueError(msg)
        return value


class DashboardConfig(Section):
    """The web dashboard and REST API (``tradebot dashboard``, or inside ``tradebot run``)."""

    enabled: bool = Field(default=False, description="Serve the dashboard inside `tradebot run`.")
    host: str = Field(default="127.0.0.1", description="Address to listen on; keep it local.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port; 0 picks a free one.")
    allow_remote: bool = Field(
        default=False,
        description="Allow a non-loopback host; needs users too. Put TLS in front of it.",
    )
    users: list[DashboardUser] = Field(
        default_factory=list, description="Who may log in; none = loopback viewers, no controls."
    )
    session_ttl_s: int = Field(
        default=900, ge=60, le=86_400, description="A login lasts this long, then ends."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Other web origins allowed to call the API; none by default.",
    )
    poll_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="How often the event stream looks for new state."
    )

    @field_validator("users")
    @classmethod
    def _names_unique(cls, value: list[DashboardUser]) -> list[DashboardUser]:
        names = [u.name for u in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            msg = f"user names must be unique; twice: {', '.join(twice)}"
            raise ValueError(msg)
        return value


class AlertThresholds(Section):
    """When a warning or critical alert fires (design section VI.C)."""

    max_drawdown_pct: float = Field(
        default=0.15,
        gt=0,
        lt=1,
        description="Alert when drawdown from peak equity exceeds this fraction.",
    )
    daily_loss: Decimal | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Alert at this loss today; unset = risk limit.",
    )
    max_api_latency_ms: int = Field(
        default=1000, ge=1, description="Alert when API calls get slower."
    )
    min_win_rate: float = Field(
        default=0.40, ge=0, le=1, description="Alert when win rate falls below."
    )
    max_position_age_hours: float = Field(
        default=72, gt=0, description="Alert on positions older than."
    )
    exchange_unreachable_s: int = Field(
        default=300, ge=1, description="Critical alert when the exchange is unreachable this long."
    )
    max_slippage_pct: float = Field(
        default=0.005,
        gt=0,
        lt=1,
        description="Warn when a fill is this far past its order's price.",
    )
    min_trades_for_win_rate: int = Field(
        default=10, ge=1, description="Judge the win rate only after this many trades."
    )
    cooldown_s: int = Field(
        default=900, ge=0, description="The same alert is not sent again within this time."
    )
    check_interval_s: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds between two looks at the saved state."
    )
    telegram: dict[str, AlertMode] = Field(
        default_factory=dict, description="Per rule: on, silent or off on Telegram."
    )
    email: dict[str, AlertMode] = Field(
        default_factory=dict, description="Per rule: on, silent or off by e-mail."
    )

    @field_validator("telegram", "email", mode="before")
    @classmethod
    def _yaml_on_off(cls, value: object) -> object:
        # YAML 1.1 reads a bare `on`/`off` as true/false: take them as the words written.
        if isinstance(value, dict):
            words = {True: "on", False: "off"}
            return {k: words[v] if isinstance(v, bool) else v for k, v in value.items()}
        return value

    @field_validator("telegram", "email")
    @classmethod
    def _known_rules(cls, value: dict[str, AlertMode]) -> dict[str, AlertMode]:
        unknown = sorted(set(value) - set(_RULES))
        if unknown:
            msg = f"unknown alert rule {', '.join(unknown)}; the rules are: {', '.join(_RULES)}"
            raise ValueError(msg)
        return value


class MonitoringConfig(Section):
    """Logs, metrics, dashboard and alerts."""

    telegram_token: SecretStr | None = Field(
        default=None,
        description="Telegram bot token; write ${TELEGRAM_TOKEN}. Unset disables Telegram.",
    )
    telegram_chat_id: str | None = Field(default=None, description="Chat that receives alerts.")
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        description="Bot API base URL (a local stand-in in tests).",
    )
    telegram_chats: dict[str, Role] = Field(
        default_factory=dict,
        description="Chats whose commands are answered, each with a role (viewer or operator).",
    )
    telegram_users: dict[str, Role] = Field(
        default_factory=dict,
        description="Users whose commands are answered, each with a role (viewer or operator).",
    )
    email: EmailConfig = Field(default_factory=EmailConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Lowest level logged."
    )
    log_format: Literal["console", "json"] = Field(
        default="console", description="Log line format."
    )
    metrics_interval_s: int = Field(
        # The design document's name without the unit is accepted too.
        validation_alias=AliasChoices("metrics_interval_s", "metrics_interval"),
        default=300,
        ge=1,
        description="Seconds between metric snapshots.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Serve Prometheus metrics at http://metrics_host:port/metrics; unset = off.",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address /metrics listens on; loopback unless allowed."
    )
    metrics_allow_remote: bool = Field(
        default=False,
        description="Allow a non-loopback metrics_host (the page shows balances, no login).",
    )
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat_id_as_text(cls, value: object) -> object:
        # YAML reads `telegram_chat_id: -100123` as a number; it is an id, keep it as text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("telegram_chats", "telegram_users", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        # YAML reads `123: operator` with a number for a key; ids are kept as text.
        if isinstance(value, dict):
            return {str(k) if isinstance(k, int) else k: v for k, v in value.items()}
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url_form(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = "must start with http:// or https://"
            raise ValueError(msg)
        return value.rstrip("/")

    @model_validator(mode="after")
    def _metrics_local(self) -> MonitoringConfig:
        if not self.metrics_allow_remote and not is_loopback(self.metrics_host):
            msg = (
                f"metrics_host {self.metrics_host} is not a loopback address: /metrics has no "
                "login and shows balances. Keep 127.0.0.1 and let Prometheus scrape on this "
                "host (or through a tunnel), or set metrics_allow_remote: true behind a firewall"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _telegram_complete(self) -> MonitoringConfig:
        if (self.telegram_token is None) != (self.telegram_chat_id is None):
            msg = "telegram_token and telegram_chat_id must be set together"
            raise ValueError(msg)
        return self
