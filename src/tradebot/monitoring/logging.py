"""Logging set-up: structlog on top of the standard library, one configuration for all.

Every tradebot module logs through ``structlog.get_logger`` or ``logging.getLogger``; this
routes both through one handler, at the configured level, as readable console lines or JSON
lines (for log shippers). Known secret values are replaced by ``**********`` in every event,
whatever field or message they end up in (design VI.A: keys never reach a log).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal

import structlog

MASK = "**********"
_HANDLER_NAME = "tradebot"
LogFormat = Literal["console", "json"]


class SecretMasker:
    """A structlog processor that blanks out known secret values anywhere in an event."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def __call__(
        self, _logger: object, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if not self._secrets:
            return event
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = self.mask(value)
            elif value is not None and not isinstance(value, int | float | bool):
                event[key] = self.mask(str(value))
        return event


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at write time (a test runner or a daemon may swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    level: str = "INFO", fmt: LogFormat = "console", secrets: Iterable[str] = ()
) -> None:
    """Send structlog and stdlib logging to stderr at ``level``, masking ``secrets``."""
    masker = SecretMasker(secrets)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*_shared(masker), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(_formatter(masker, renderer))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler: others (a test's log capture, an embedding app's) stay.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME]
    root.addHandler(handler)
    root.setLevel(level.upper())


def json_formatter(secrets: Iterable[str] = ()) -> logging.Formatter:
    """A formatter that renders any record (structlog or stdlib) as one masked JSON line.

    For handlers besides stderr's, such as the dashboard's live log: they mask the same
    secrets, so a key never reaches a page either.
    """
    return _formatter(SecretMasker(secrets), structlog.processors.JSONRenderer())


def _shared(masker: SecretMasker) -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        masker,
    ]


def _formatter(masker: SecretMasker, renderer: Any) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(masker),
        # the masker again: structlog's own events were masked only with configure-time secrets
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, masker, renderer],
    )


def environment_secrets() -> list[str]:
    """Values of environment variables whose names say they are secret.

    Keys reach the config through ${ENV} (design VI.A), so these values are masked in every
    log line whatever field or message they end up in.
    """
    markers = ("KEY", "SECRET", "TOKEN", "PASSWORD")
    return [v for k, v in os.environ.items() if any(m in k.upper() for m in markers) and v]
