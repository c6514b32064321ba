"""CommandBot: answers Telegram commands from allow-listed chats and users only.

A message is answered only when its chat is in ``monitoring.telegram_chats`` and its sender
in ``monitoring.telegram_users``; the lesser of the two roles applies. Anything else gets
no answer at all (a stranger learns nothing, not even that a bot listens) and is logged
with the chat and user ids. Viewers read; operators also stop, resume and flatten, and they
do it through the same persisted controls as ``tradebot stop``/``resume``: the bot picks
them up at its next cycle and is never touched from here. ``/forceexit`` asks for a
``/confirm <code>`` from the same person within a minute before it does anything.

The update offset is saved in the control state after each command, so a restart neither
answers an old command again nor skips a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import structlog

from tradebot.monitoring.alerts.channel import Result
from tradebot.monitoring.alerts.telegram import TelegramApi
from tradebot.monitoring.alerts.text import reply_parts
from tradebot.monitoring.chat.views import HELP_OPERATOR, HELP_VIEWER, Views
from tradebot.monitoring.holdings import held_positions
from tradebot.orchestrator.controls import (
    request_flatten,
    resume_trading,
    stop_entries,
    stop_trading,
)

log = structlog.get_logger("tradebot.telegram")
Role = Literal["viewer", "operator"]
OFFSET_KEY = "telegram.update_offset"
CONFIRM_S = 60.0
_VIEWS = ("status", "profit", "balance", "daily", "trades", "performance", "locks", "health")
_OPERATOR = ("stopentry", "stop", "resume", "forceexit", "confirm")


@dataclass(frozen=True, slots=True)
class Command:
    """One command as received: who sent it, where, and what."""

    chat_id: str
    user_id: str
    name: str
    argument: str


@dataclass(frozen=True, slots=True)
class _Pending:
    target: str
    code: str
    expires_s: float


def parse(update: dict[str, Any]) -> Command | None:
    """The command in ``update``, or None for anything that is not a text command."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    text, chat, sender = message.get("text"), message.get("chat"), message.get("from")
    if not isinstance(text, str) or not text.startswith("/"):
        return None
    if not isinstance(chat, dict) or not isinstance(sender, dict):
        return None
    head, _, argument = text.strip().partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return Command(str(chat.get("id")), str(sender.get("id")), name, argument.strip())


class CommandBot:
    """Polls ``getUpdates`` and answers each allowed command."""

    def __init__(
        self,
        api: TelegramApi,
        views: Views,
        chats: dict[str, Role],
        users: dict[str, Role],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Answer through ``api`` what ``chats`` and ``users`` may ask."""
        self._api, self._views, self._repo = api, views, views.repository
        self._chats, self._users, self._clock = chats, users, clock
        self._pending: dict[tuple[str, str], _Pending] = {}

    def role_of(self, command: Command) -> Role | None:
        """The role this sender has in this chat, or None when either is not listed."""
        chat, user = self._chats.get(command.chat_id), self._users.get(command.user_id)
        if chat is None or user is None:
            return None
        return "operator" if chat == user == "operator" else "viewer"

    async def poll_once(self, timeout_s: int = 20) -> int:
        """Fetch and handle new updates; how many were handled."""
        saved = self._repo.get_control(OFFSET_KEY)
        try:
            updates = await self._api.get_updates(int(saved) if saved else None, timeout_s)
        except httpx.HTTPError as exc:
            log.warning("telegram getUpdates failed", error=str(exc))
            return 0
        for update in updates:
            command = parse(update)
            if command is not None:
                await self._answer(command)
            self._repo.set_control(OFFSET_KEY, str(int(update.get("update_id", 0)) + 1))
        return len(updates)

    async def run(self, stop: asyncio.Event, timeout_s: int = 20, pause_s: float = 1.0) -> None:
        """Answer commands until ``stop`` is set."""
        while not stop.is_set():
            try:
                handled = await self.poll_once(timeout_s)
            except Exception:  # the top of the command loop: log and go on
                log.exception("telegram command handling failed")
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause_s)

    async def _answer(self, command: Command) -> None:
        role = self.role_of(command)
        if role is None:
            log.warning(
                "telegram: ignored a command from a chat or user not allow-listed",
                chat_id=command.chat_id,
                user_id=command.user_id,
                command=command.name[:32],
            )
            return
        reply = self.reply(command, role)
        for part in reply_parts(reply):
            outcome = await self._api.send_message(command.chat_id, part)
            if outcome.result is Result.RATE_LIMITED:
                await asyncio.sleep(outcome.retry_after_s)
                outcome = await self._api.send_message(command.chat_id, part)
            if outcome.result is not Result.DELIVERED:
                log.warning("telegram reply not delivered", error=outcome.error)
                return

    def reply(self, command: Command, role: Role) -> str:
        """What the bot answers ``command`` from someone with ``role`` (acting if asked)."""
        name, views = command.name, self._views
        if name in ("help", "start"):
            return HELP_VIEWER + ("\n" + HELP_OPERATOR if role == "operator" else "")
        if name in _VIEWS:
            return str(getattr(views, name)())
        if name == "explain":
            return views.explain(command.argument)
        if name not in _OPERATOR:
            return f"unknown command /{name}; /help lists them"
        if role != "operator":
            return f"/{name} needs the operator role"
        return self._control(command)

    def _control(self, command: Command) -> str:
        who = f"telegram user {command.user_id}"
        log.warning("telegram control command", command=command.name, user_id=command.user_id)
        if command.name == "stopentry":
            stop_entries(self._repo, f"/stopentry by {who}")
            return "kill switch REDUCING: no new entries; exits and stops go on."
        if command.name == "stop":
            stop_trading(self._repo, f"/stop by {who}")
            return "kill switch HALTED: no new orders; resting stops stay."
        if command.name == "resume":
            was = resume_trading(self._repo, f"/resume by {who}")
            return f"kill switch ACTIVE (was {was}): trading resumes at the next cycle."
        if command.name == "forceexit":
            return self._ask_to_confirm(command)
        return self._confirm(command)

    def _ask_to_confirm(self, command: Command) -> str:
        target = command.argument.strip()
        open_positions = {p.position.symbol: p.position for p in held_positions(self._repo)}
        if not target:
            return "usage: /forceexit <symbol|all>"
        if target.lower() != "all" and target.upper() not in open_positions:
            held = ", ".join(open_positions) or "none"
            return f"no open position in {target} (open: {held})"
        if target.lower() != "all" and len(open_positions) > 1:
            return "the bot flattens all its positions at once: use /forceexit all"
        if not open_positions:
            return "no open position to exit"
        code = f"{secrets.randbelow(10_000):04d}"
        key = (command.chat_id, command.user_id)
        self._pending[key] = _Pending(target, code, self._clock() + CONFIRM_S)
        what = ", ".join(f"{p.qty} {s}" for s, p in open_positions.items())
        return (
            f"Sell {what} at market and cancel the bot's orders? "
            f"Send /confirm {code} within {CONFIRM_S:.0f} s."
        )

    def _confirm(self, command: Command) -> str:
        pending = self._pending.pop((command.chat_id, command.user_id), None)
        if pending is None or self._clock() > pending.expires_s:
            return "nothing to confirm (or it expired): send /forceexit again"
        if command.argument != pending.code:
            return "wrong code: nothing done; send /forceexit again"
        request_flatten(self._repo)
        log.warning("telegram forceexit confirmed", target=pending.target, user_id=command.user_id)
        return (
            f"/forceexit {pending.target}: the bot cancels its orders and sells at market "
            "at its next cycle."
        )
