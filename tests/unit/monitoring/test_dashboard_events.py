"""The event stream: a first full state, then only what moved, and every log line once."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from typing import Any

from tradebot.monitoring.dashboard.events import LogBuffer, stream
from tradebot.state.rows import Activity


def parse(chunk: str) -> tuple[str, dict[str, Any]]:
    event, data = chunk.strip().split("\n")
    return event.removeprefix("event: "), json.loads(data.removeprefix("data: "))


async def test_stream_sends_marks_then_changes_and_log_lines() -> None:
    # Arrange: the database's marks as a test moves them; a log line before and one after
    marks = [Activity(decision_id=3, fill_id=1)]
    logs, closing = LogBuffer(), asyncio.Event()
    logger = logging.getLogger("tradebot.test.events")
    logger.addHandler(logs)
    logger.warning("before the page opened")
    events = stream(lambda: marks[0], logs, 0.01, closing)
    # Act
    first = parse(await anext(events))
    backlog = parse(await anext(events))
    marks[0] = replace(marks[0], fill_id=2, trade_id=1)
    logger.warning("a trade closed")
    moved = parse(await anext(events))
    line = parse(await anext(events))
    closing.set()
    rest = [chunk async for chunk in events]
    logger.removeHandler(logs)
    # Assert
    assert first[0] == "state"
    assert (first[1]["marks"]["decision_id"], first[1]["marks"]["fill_id"]) == (3, 1)
    assert backlog == ("log", {**backlog[1], "event": "before the page opened"})
    assert moved == ("state", {**moved[1], "changed": ["fill_id", "trade_id"]})
    assert line[1]["event"] == "a trade closed"
    assert rest == []
