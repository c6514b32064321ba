"""The outbox and its sender against a stand-in Telegram Bot API on 127.0.0.1.

Real SQLite, real HTTP; only the clock is a test's, so "honours retry_after" is checked to
the millisecond without waiting for it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from telegram_standin import TelegramStandIn, telegram_standin
from tradebot.domain.alerts import Alert, AlertRule
from tradebot.monitoring.alerts.sender import AlertSender
from tradebot.monitoring.alerts.telegram import TelegramApi, TelegramChannel
from tradebot.state import create_database
from tradebot.state.outbox import AlertOutbox

TOKEN = "987654:SECRET-token-value"
CHAT = "-1001"


class Clock:
    """Seconds and milliseconds a test moves by hand."""

    def __init__(self) -> None:
        self.s = 1_000.0

    def ms(self) -> int:
        return int(self.s * 1000)


@pytest.fixture
def standin() -> TelegramStandIn:
    with telegram_standin(TOKEN, CHAT) as server:
        yield server  # type: ignore[misc]


def _alert(n: int, body: str = "") -> Alert:
    return Alert(AlertRule.ORDER_FAILED, f"tb-{n}", f"Order failed #{n}", body or f"order {n} <x>")


async def _setup(tmp_path: Path, standin: TelegramStandIn, clock: Clock):
    outbox = AlertOutbox(create_database(tmp_path / "bot.db"), now_ms=clock.ms)
    api = TelegramApi(standin.url, SecretStr(TOKEN))
    sender = AlertSender(outbox, [TelegramChannel(api, CHAT)])
    return outbox, api, sender


async def test_sender_429_waits_exactly_retry_after_then_delivers_each_alert_once(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    # Arrange: three alerts; Telegram rate-limits the second with retry_after 7.
    clock = Clock()
    outbox, api, sender = await _setup(tmp_path, standin, clock)
    outbox.raise_alerts([(_alert(n), {"telegram": False}) for n in (1, 2, 3)], 0)
    standin.script(200)
    standin.script(429, retry_after=7)
    # Act / Assert: the first goes, the channel then pauses as a whole.
    assert await sender.deliver_due() == 1
    clock.s += 6.9
    assert await sender.deliver_due() == 0
    assert len(standin.requests) == 2
    clock.s += 0.2
    assert await sender.deliver_due() == 2
    await api.close()
    assert [t.split("\n")[0] for t in standin.texts()] == [
        f"\U0001f6a8 <b>Order failed #{n}</b>" for n in (1, 2, 3)
    ]
    assert standin.problems == []
    assert outbox.counts() == {"pending": 0, "sent": 3, "failed": 0}


async def test_sender_started_again_during_a_429_pause_waits_it_out_and_keeps_the_order(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    # Arrange: the second of three alerts is rate-limited for 7 s, then the sender stops.
    clock = Clock()
    outbox, api, sender = await _setup(tmp_path, standin, clock)
    outbox.raise_alerts([(_alert(n), {"telegram": False}) for n in (1, 2, 3)], 0)
    standin.script(200)
    standin.script(429, retry_after=7)
    assert await sender.deliver_due() == 1
    # Act: a new sender on the same database (a restarted monitor) within the pause.
    restarted = AlertSender(outbox, [TelegramChannel(api, CHAT)])
    clock.s += 3
    assert await restarted.deliver_due() == 0
    clock.s += 4.1
    assert await restarted.deliver_due() == 2
    await api.close()
    # Assert: nothing went out while Telegram asked to wait, and the order held.
    assert len(standin.requests) == 4
    assert [t.split("\n")[0] for t in standin.texts()] == [
        f"\U0001f6a8 <b>Order failed #{n}</b>" for n in (1, 2, 3)
    ]


async def test_sender_400_fails_that_alert_for_good_and_the_next_still_goes(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    clock = Clock()
    outbox, api, sender = await _setup(tmp_path, standin, clock)
    outbox.raise_alerts([(_alert(n), {"telegram": False}) for n in (1, 2)], 0)
    standin.script(400, "Bad Request: chat not found")
    # Act
    await sender.deliver_due()
    clock.s += 3600
    await sender.deliver_due()
    await api.close()
    # Assert: refused once, never retried; the second alert delivered.
    assert len(standin.requests) == 2
    assert [t.split("\n")[0] for t in standin.texts()] == ["\U0001f6a8 <b>Order failed #2</b>"]
    entries = {e.title: e for e in outbox.recent()}
    assert entries["Order failed #1"].status == "failed"
    assert entries["Order failed #1"].last_error == "telegram 400: Bad Request: chat not found"


async def test_sender_network_error_backs_off_and_token_never_reaches_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange: nothing listens on the API URL (a closed port on loopback).
    clock = Clock()
    outbox = AlertOutbox(create_database(tmp_path / "bot.db"), now_ms=clock.ms)
    api = TelegramApi("http://127.0.0.1:9", SecretStr(TOKEN))
    sender = AlertSender(outbox, [TelegramChannel(api, CHAT)])
    outbox.raise_alerts([(_alert(1), {"telegram": False})], 0)
    caplog.set_level(logging.DEBUG)
    # Act
    await sender.deliver_due()
    clock.s += 0.5
    await sender.deliver_due()  # within the 1 s back-off: not tried
    clock.s += 0.6
    await sender.deliver_due()
    await api.close()
    # Assert
    (entry,) = outbox.recent()
    assert (entry.status, entry.attempts) == ("pending", 2)
    assert "ConnectError" in entry.last_error
    assert TOKEN not in caplog.text
    assert TOKEN not in entry.last_error


async def test_sender_long_alert_parts_each_once_after_a_429_between_parts(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    clock = Clock()
    outbox, api, sender = await _setup(tmp_path, standin, clock)
    body = "\n".join(f"{i:05d} fill & <detail>" for i in range(600))
    outbox.raise_alerts([(_alert(1, body), {"telegram": True})], 0)
    standin.script(200)
    standin.script(429, retry_after=2)
    # Act
    await sender.deliver_due()
    clock.s += 2
    await sender.deliver_due()
    await api.close()
    # Assert: every part once, in order, silent, and together the whole body.
    texts = standin.texts()
    assert [t.split(" ")[0].split("\n")[0] for t in texts] == [f"({k}/5)" for k in range(1, 6)]
    assert all(m.silent for m in standin.messages)
    assert "00000 fill" in texts[0]
    assert "00599 fill" in texts[-1]
    assert standin.problems == []


def test_outbox_same_alert_within_cooldown_is_folded_not_sent_again(tmp_path: Path) -> None:
    clock = Clock()
    outbox = AlertOutbox(create_database(tmp_path / "bot.db"), now_ms=clock.ms)
    ids = outbox.raise_alerts([(_alert(1), {"telegram": False})], 60_000)
    clock.s += 59
    again = outbox.raise_alerts([(_alert(1), {"telegram": False})], 60_000)
    clock.s += 2
    later = outbox.raise_alerts([(_alert(1), {"telegram": False})], 60_000)
    assert ids[0] is not None
    assert again == [None]
    assert later[0] is not None
    assert [e.repeats for e in outbox.recent()] == [0, 1]
    assert outbox.counts()["pending"] == 2
