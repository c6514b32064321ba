"""API credentials: read from the environment or a credentials file, never from the config.

A ``Credentials`` never shows its secret or key in ``repr``/``str``, and ``Redactor`` scrubs
both (and any request signature) from text: log lines of CCXT's own logger, exception
messages, reports. CCXT logs request headers (which carry the key) at DEBUG level, so the
connector gives its CCXT instance a ``RedactingLogger``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradebot.domain.errors import ConfigError

DEFAULT_KEY_VAR = "TRADEBOT_API_KEY"
DEFAULT_SECRET_VAR = "TRADEBOT_API_SECRET"  # noqa: S105 - the variable's name, not a secret
_SIGNATURE = re.compile(r"(signature=)[0-9a-fA-F]+")
REDACTED = "***"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key and secret. Both are hidden from repr; use the attributes deliberately."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        """Show only that credentials exist, never their value."""
        return f"Credentials(api_key={REDACTED}, api_secret={REDACTED})"

    __str__ = __repr__


def from_env(
    env: Mapping[str, str] | None = None,
    key_var: str = DEFAULT_KEY_VAR,
    secret_var: str = DEFAULT_SECRET_VAR,
) -> Credentials:
    """Read the key and secret from environment variables.

    Raises:
        ConfigError: a variable is unset or empty; the message names it.
    """
    env = os.environ if env is None else env
    missing = [name for name in (key_var, secret_var) if not env.get(name)]
    if missing:
        raise ConfigError(
            f"exchange credentials: environment variable(s) {', '.join(missing)} not set; "
            "export them or name a credentials file in the config (exchange.credentials_file)"
        )
    return Credentials(api_key=env[key_var], api_secret=env[secret_var])


def from_file(path: Path) -> Credentials:
    """Read ``{"api_key": ..., "api_secret": ...}`` (JSON) or ``KEY=VALUE`` lines from a file.

    Raises:
        ConfigError: the file is missing, readable by others, or lacks a field.
    """
    if not path.is_file():
        raise ConfigError(f"exchange credentials file {path} does not exist")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"exchange credentials file {path} is readable by other users; run chmod 600 {path}"
        )
    text = path.read_text(encoding="utf-8")
    values: dict[str, str] = {}
    if text.lstrip().startswith("{"):
        values = {str(k).lower(): str(v) for k, v in json.loads(text).items()}
    else:
        for line in text.splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.strip().startswith("#"):
                values[name.strip().lower()] = value.strip().strip("'\"")
    key = values.get("api_key") or values.get(DEFAULT_KEY_VAR.lower())
    secret = values.get("api_secret") or values.get(DEFAULT_SECRET_VAR.lower())
    if not key or not secret:
        raise ConfigError(f"exchange credentials file {path} must set api_key and api_secret")
    return Credentials(api_key=key, api_secret=secret)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Replace known secrets and request signatures in text with ``***``."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, credentials: Credentials | None) -> Redactor:
        """A redactor for these credentials (signatures are scrubbed either way)."""
        if credentials is None:
            return cls()
        return cls(tuple(s for s in (credentials.api_secret, credentials.api_key) if s))

    def __call__(self, text: str) -> str:
        """Return ``text`` without the secrets."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _SIGNATURE.sub(rf"\g<1>{REDACTED}", text)


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """A per-instance logger for CCXT that formats each message and scrubs it before logging."""

    def __init__(self, logger: logging.Logger, redactor: Redactor) -> None:
        """Wrap ``logger``; every message goes through ``redactor``."""
        super().__init__(logger, {})
        self._redact = redactor

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Format ``msg % args``, redact, then log the plain string."""
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        self.logger.log(level, self._redact(text), **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        """Redact messages that reach the adapter's other paths."""
        return self._redact(str(msg)), kwargs
