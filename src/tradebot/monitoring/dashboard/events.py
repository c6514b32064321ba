"""The live stream: log lines and "the state changed" events, as Server-Sent Events.

The bot's state is watched through the database (``Repository.activity``: the newest id or
write time of each table), so the stream works whether the dashboard runs inside the bot or
beside it. Log lines come from this process's logging (inside ``tradebot run`` that is the
bot's own log), formatted by the same masking formatter as stderr, so no secret reaches a
page.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, fields
from itertools import count

from tradebot.monitoring.logging import json_formatter
from tradebot.state.rows import Activity

LOG_LINES = 500
HEARTBEAT_S = 15.0


class LogBuffer(logging.Handler):
    """Keeps the newest log records, each with a sequence number, as masked JSON objects."""

    def __init__(self, secrets: Iterable[str] = (), size: int = LOG_LINES) -> None:
        """Keep ``size`` lines; mask ``secrets`` (besides those logging already masks)."""
        super().__init__(logging.INFO)
        self.setFormatter(json_formatter(secrets))
        self._lines: deque[tuple[int, dict[str, object]]] = deque(maxlen=size)
        self._seq = count(1)

    def emit(self, record: logging.LogRecord) -> None:
        """Format and keep ``record`` (never raises: a log line must not break the bot)."""
        try:
            line = json.loads(self.format(record))
        except Exception:
            self.handleError(record)
            return
        self._lines.append((next(self._seq), line))

    def since(self, seq: int) -> list[tuple[int, dict[str, object]]]:
        """Lines after sequence number ``seq``, oldest first."""
        return [(n, line) for n, line in list(self._lines) if n > seq]

    def attach(self) -> None:
        """Start receiving the records of every logger (the root's handlers)."""
        logging.getLogger().addHandler(self)

    def detach(self) -> None:
        """Stop receiving records."""
        logging.getLogger().removeHandler(self)


def changed(before: Activity, after: Activity) -> list[str]:
    """Names of the tables whose marks moved (``decision_id``, ``fill_id``...)."""
    return [f.name for f in fields(Activity) if getattr(before, f.name) != getattr(after, f.name)]


def sse(event: str, data: object) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def stream(
    activity: Callable[[], Activity],
    logs: LogBuffer,
    poll_s: float,
    closing: asyncio.Event,
) -> AsyncIterator[str]:
    """Events until ``closing`` is set: ``state`` when the database moved, ``log`` per line.

    The first ``state`` event carries every mark, so a new page knows where things stand.
    """
    marks = await asyncio.to_thread(activity)
    yield sse("state", {"changed": [f.name for f in fields(Activity)], "marks": asdict(marks)})
    backlog = logs.since(0)[-100:]
    for _, line in backlog:
        yield sse("log", line)
    seq, quiet = (backlog[-1][0] if backlog else 0), 0.0
    while not closing.is_set():
        try:
            await asyncio.wait_for(closing.wait(), poll_s)
            break
        except TimeoutError:
            pass
        now = await asyncio.to_thread(activity)
        moved = changed(marks, now)
        if moved:
            marks, quiet = now, 0.0
            yield sse("state", {"changed": moved, "marks": asdict(now)})
        for number, line in logs.since(seq):
            seq = number
            yield sse("log", line)
        quiet += poll_s
        if quiet >= HEARTBEAT_S:
            quiet = 0.0
            yield ": keep-alive\n\n"
