"""API credentials (found by ``tradebot.config.credentials``: env vars or a credentials file).

A ``Credentials`` never shows its secret or key in ``repr``/``str``, and ``Redactor`` scrubs
both (and any request signature) from text: log lines of CCXT's own logger, exception
messages, reports. CCXT logs request headers (which carry the key) at DEBUG level, so the
connector gives its CCXT instance a ``RedactingLogger``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from tradebot.config.credentials import load_credentials
from tradebot.config.model import Config

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


def from_config(
    config: Config, environ: Mapping[str, str] | None = None, venue: str | None = None
) -> Credentials | None:
    """The credentials the config points at for ``venue`` (the only one when None): its
    values, its file, or the environment.

    Raises:
        ConfigError: the credentials file is missing, shared or incomplete.
    """
    pair = load_credentials(config, environ=environ, venue=venue)
    return None if pair is None else Credentials(api_key=pair[0], api_secret=pair[1])


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
