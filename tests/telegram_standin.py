"""A stand-in for Telegram's Bot API on 127.0.0.1, for the alert and command tests.

It runs aiohttp in a thread of its own (so a test, sync or async, and a bot process in
another process can all talk to it), checks every ``sendMessage`` as Telegram would (the
token, the chat, HTML that parses, at most 4,096 characters) and answers with whatever a
test scripted: ``script(429, retry_after=2)`` or ``script(400, "Bad Request: ...")`` for the
next messages, else 200. Messages it accepted are in ``messages``; problems in ``problems``.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

LIMIT = 4096
_ALLOWED_TAGS = {"b", "i", "code", "pre"}
_TAG = re.compile(r"</?(b|i|code|pre)>")
_BARE_AMP = re.compile(r"&(?!(amp|lt|gt|quot|#x27|#39);)")


@dataclass
class Sent:
    """A message the stand-in accepted."""

    chat_id: str
    text: str
    silent: bool
    message_id: int


@dataclass
class Answer:
    """A scripted answer to the next ``sendMessage``."""

    status: int
    description: str = ""
    retry_after: int | None = None


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.problems.append(f"unsupported start tag {tag}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"can't find end tag corresponding to start tag {tag}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(text: str) -> list[str]:
    """What Telegram would refuse in ``text`` (parse_mode HTML)."""
    parser = _Tags()
    parser.feed(text)
    parser.close()
    problems = parser.problems + [f"unclosed tag {t}" for t in parser.open]
    plain = "".join(parser.text)
    if len(plain.encode("utf-16-le")) // 2 > LIMIT:
        problems.append(f"message is too long: {len(plain)}")
    stripped = _TAG.sub("", text)
    if "<" in stripped or ">" in stripped:
        problems.append("unescaped < or > in text")
    if _BARE_AMP.search(stripped):
        problems.append("unescaped & in text")
    return problems


@dataclass
class TelegramStandIn:
    """The server's state; tests read and script it."""

    token: str
    chat_id: str
    messages: list[Sent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: deque[Answer] = field(default_factory=deque)
    updates: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_update: int = 1

    def script(self, status: int, description: str = "", retry_after: int | None = None) -> None:
        """Answer the next ``sendMessage`` with ``status`` (once per call)."""
        with self._lock:
            self.answers.append(Answer(status, description, retry_after))

    def push_message(self, chat_id: int | str, user_id: int | str, text: str) -> None:
        """Queue a user's message for ``getUpdates``."""
        with self._lock:
            update = {
                "update_id": self._next_update,
                "message": {
                    "message_id": self._next_update,
                    "date": int(time.time()),
                    "chat": {"id": int(chat_id), "type": "private"},
                    "from": {"id": int(user_id), "is_bot": False, "first_name": "t"},
                    "text": text,
                },
            }
            self._next_update += 1
            self.updates.append(update)

    def texts(self, chat_id: str | None = None) -> list[str]:
        """Texts accepted so far (for one chat when given)."""
        with self._lock:
            return [m.text for m in self.messages if chat_id is None or m.chat_id == chat_id]

    # ------------------------------------------------------------------ handlers
    async def _send_message(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        payload = await request.json()
        with self._lock:
            self.requests.append(payload)
            answer = self.answers.popleft() if self.answers else Answer(200)
        if answer.status != 200:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": answer.status,
                "description": answer.description,
            }
            if answer.retry_after is not None:
                body["parameters"] = {"retry_after": answer.retry_after}
                body["description"] = f"Too Many Requests: retry after {answer.retry_after}"
            return web.json_response(body, status=answer.status)
        problems = check_html(payload.get("text", ""))
        if payload.get("parse_mode") != "HTML":
            problems.append(f"parse_mode {payload.get('parse_mode')!r}")
        if (
            str(payload.get("chat_id")) != self.chat_id
            and not str(payload.get("chat_id")).isdigit()
        ):
            problems.append(f"chat {payload.get('chat_id')!r}")
        if problems:
            with self._lock:
                self.problems.extend(problems)
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: " + "; ".join(problems),
                },
                status=400,
            )
        with self._lock:
            sent = Sent(
                str(payload["chat_id"]),
                payload["text"],
                bool(payload.get("disable_notification")),
                len(self.messages) + 1,
            )
            self.messages.append(sent)
        return web.json_response(
            {"ok": True, "result": {"message_id": sent.message_id, "text": sent.text}}
        )

    async def _get_updates(self, request: web.Request) -> web.Response:
        payload = await request.json()
        offset = int(payload.get("offset") or 0)
        deadline = time.monotonic() + min(float(payload.get("timeout", 0)), 0.3)
        while True:
            with self._lock:
                found = [u for u in self.updates if u["update_id"] >= offset]
            if found or time.monotonic() >= deadline:
                return web.json_response({"ok": True, "result": found})
            await asyncio.sleep(0.02)


@contextmanager
def telegram_standin(
    token: str = "123456:TEST-token", chat_id: str = "-1001"
) -> Iterator[TelegramStandIn]:
    """Serve the stand-in on a free port of 127.0.0.1 for the block."""
    state = TelegramStandIn(token, chat_id)
    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", state._send_message)
    app.router.add_post("/bot{token}/getUpdates", state._get_updates)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        state.url = f"http://127.0.0.1:{port}"
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield state
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
