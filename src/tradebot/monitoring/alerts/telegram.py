"""Telegram's Bot API over httpx: send alerts, read commands.

The base URL is configurable (``monitoring.telegram_api_url``), so tests and private
deployments point it at a local stand-in. The token is part of every request path
(``/bot<token>/method``): it is kept in a ``SecretStr``, masked out of httpx's own request
log lines and of every error text this module produces.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from tradebot.monitoring.alerts.channel import DELIVERED, Outcome, Result
from tradebot.monitoring.alerts.text import telegram_parts
from tradebot.state.outbox import Delivery

_BOT_PATH = re.compile(r"/bot[^/\s]+/")
_MASKED_PATH = "/bot**********/"


class _MaskBotPath(logging.Filter):
    """Masks ``/bot<token>/`` in httpx's request lines before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "/bot" in text:
            record.msg, record.args = _BOT_PATH.sub(_MASKED_PATH, text), None
        return True


_HTTPX_LOG = logging.getLogger("httpx")
if not any(isinstance(f, _MaskBotPath) for f in _HTTPX_LOG.filters):  # pragma: no branch
    _HTTPX_LOG.addFilter(_MaskBotPath())


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """What the Bot API said: ``ok``, the result, or why not (with ``retry_after`` on 429)."""

    status: int
    ok: bool
    result: Any = None
    description: str = ""
    retry_after_s: float = 0.0


class TelegramApi:
    """A small Bot API client: ``sendMessage`` and ``getUpdates`` are all the bot uses."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Talk to ``base_url`` (no trailing slash) as the bot of ``token``."""
        self._token = token
        self._base = f"{base_url.rstrip('/')}/bot{token.get_secret_value()}/"
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def call(
        self, method: str, payload: dict[str, Any], timeout_s: float | None = None
    ) -> ApiAnswer:
        """POST ``payload`` as JSON to ``method``.

        Raises:
            httpx.HTTPError: the request did not get an answer (its text has no token).
        """
        timeout = httpx.USE_CLIENT_DEFAULT if timeout_s is None else httpx.Timeout(timeout_s)
        try:
            response = await self._http.post(self._base + method, json=payload, timeout=timeout)
        except httpx.HTTPError as exc:
            raise httpx.TransportError(self.mask(f"{type(exc).__name__}: {exc}")) from None
        return _answer(response)

    def mask(self, text: str) -> str:
        """``text`` without the token."""
        return text.replace(self._token.get_secret_value(), "**********")

    async def send_message(self, chat_id: str, text: str, silent: bool = False) -> Outcome:
        """Send one HTML message; the outcome says whether, when and why to try again."""
        payload = {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": "HTML",
            "disable_notification": silent,
            "link_preview_options": {"is_disabled": True},
        }
        try:
            answer = await self.call("sendMessage", payload)
        except httpx.HTTPError as exc:
            return Outcome(Result.TRANSIENT, f"{type(exc).__name__}: {exc}")
        return _outcome(answer)

    async def get_updates(self, offset: int | None, timeout_s: int) -> list[dict[str, Any]]:
        """New updates after ``offset`` (long polling up to ``timeout_s``); [] on any failure."""
        payload: dict[str, Any] = {"timeout": timeout_s, "allowed_updates": ["message"]}
        if offset is not None:
            payload["offset"] = offset
        answer = await self.call("getUpdates", payload, timeout_s=timeout_s + 10)
        if not answer.ok or not isinstance(answer.result, list):
            return []
        return [u for u in answer.result if isinstance(u, dict)]

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def _answer(response: httpx.Response) -> ApiAnswer:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    parameters = body.get("parameters") or {}
    retry_after = parameters.get("retry_after", 0) if isinstance(parameters, dict) else 0
    return ApiAnswer(
        status=response.status_code,
        ok=bool(body.get("ok")) and response.is_success,
        result=body.get("result"),
        description=str(body.get("description") or response.reason_phrase),
        retry_after_s=float(retry_after) if isinstance(retry_after, int | float) else 0.0,
    )


def _outcome(answer: ApiAnswer) -> Outcome:
    if answer.ok:
        return DELIVERED
    error = f"telegram {answer.status}: {answer.description}"
    if answer.status == 429:
        return Outcome(Result.RATE_LIMITED, error, max(answer.retry_after_s, 1.0))
    if answer.status >= 500 or answer.status in (408, 409):
        return Outcome(Result.TRANSIENT, error)
    return Outcome(Result.REFUSED, error)


class TelegramChannel:
    """Alerts to one chat through ``TelegramApi``."""

    name = "telegram"

    def __init__(self, api: TelegramApi, chat_id: str) -> None:
        """Send to ``chat_id``."""
        self._api = api
        self._chat_id = chat_id

    def parts(self, delivery: Delivery) -> list[str]:
        """The alert as escaped HTML, cut at 4,096 characters."""
        return telegram_parts(delivery.severity, delivery.title, delivery.body)

    async def send(self, part: str, delivery: Delivery) -> Outcome:
        """One ``sendMessage``; silent deliveries arrive without a sound."""
        return await self._api.send_message(self._chat_id, part, delivery.silent)
