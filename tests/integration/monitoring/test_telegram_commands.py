"""Telegram commands against the stand-in Bot API: who is answered, what they can do, and
that control commands act through the persisted controls (the database), nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from telegram_standin import TelegramStandIn, telegram_standin
from tradebot.domain.decisions import KillSwitch
from tradebot.domain.portfolio import Position, Trade
from tradebot.monitoring.alerts.telegram import TelegramApi
from tradebot.monitoring.chat.commands import OFFSET_KEY, CommandBot
from tradebot.monitoring.chat.views import Views
from tradebot.monitoring.logging import configure_logging
from tradebot.orchestrator.continuity import FLATTEN_REQUEST
from tradebot.state import PortfolioSnapshot, create_database
from tradebot.state.outbox import AlertOutbox
from tradebot.state.repository import Repository
from tradebot.state.watch import StateWatch

TOKEN, GROUP = "4242:commands-token", "-100"
OPERATOR, VIEWER, STRANGER = "1", "2", "3"
T0 = 1_733_011_200_000


class Clock:
    def __init__(self) -> None:
        self.s = 100.0


@pytest.fixture
def standin() -> TelegramStandIn:
    with telegram_standin(TOKEN, GROUP) as server:
        yield server  # type: ignore[misc]


@asynccontextmanager
async def _bot(
    tmp_path: Path, standin: TelegramStandIn, clock: Clock
) -> AsyncIterator[tuple[CommandBot, Repository]]:
    database = create_database(tmp_path / "bot.db")
    repo = Repository(database)
    views = Views(StateWatch(database), AlertOutbox(database))
    api = TelegramApi(standin.url, SecretStr(TOKEN))
    chats = {GROUP: "operator", OPERATOR: "operator", VIEWER: "viewer"}
    users = {OPERATOR: "operator", VIEWER: "viewer"}
    try:
        yield CommandBot(api, views, chats, users, clock=lambda: clock.s), repo
    finally:
        await api.close()
        database.close()


async def _say(bot: CommandBot, standin: TelegramStandIn, user: str, text: str) -> str:
    before = len(standin.messages)
    standin.push_message(GROUP, user, text)
    await bot.poll_once(timeout_s=0)
    return "\n".join(m.text for m in standin.messages[before:])


async def test_commands_only_allow_listed_are_answered_with_their_role(
    tmp_path: Path, standin: TelegramStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("INFO")  # as `tradebot` does: structlog through the standard library
    async with _bot(tmp_path, standin, Clock()) as (bot, repo):
        # Act / Assert: a stranger is ignored (no answer at all) and logged.
        assert await _say(bot, standin, STRANGER, "/stop") == ""
        assert repo.kill_switch() is KillSwitch.ACTIVE
        assert "not allow-listed" in caplog.text
        # A viewer reads but cannot act.
        assert "no closed trades yet" in await _say(bot, standin, VIEWER, "/profit")
        assert "needs the operator role" in await _say(bot, standin, VIEWER, "/stop")
        assert repo.kill_switch() is KillSwitch.ACTIVE
        helped = await _say(bot, standin, VIEWER, "/help@tradebot_bot")
        assert "/status" in helped
        assert "/forceexit" not in helped
        # An operator stops entries, stops, resumes: the control state in the database changes.
        await _say(bot, standin, OPERATOR, "/stopentry")
        assert repo.kill_switch() is KillSwitch.REDUCING
        await _say(bot, standin, OPERATOR, "/stop")
        assert repo.kill_switch() is KillSwitch.HALTED
        assert repo.kill_switch_reason() == "/stop by telegram user 1"
        answer = await _say(bot, standin, OPERATOR, "/resume")
        assert "was HALTED (/stop by telegram user 1)" in answer
        assert repo.kill_switch() is KillSwitch.ACTIVE
        assert repo.get_control(OFFSET_KEY) == "8"  # seven updates handled, none to repeat
        assert standin.problems == []


async def test_forceexit_needs_the_code_from_the_same_operator_within_a_minute(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    # Arrange: an open position.
    clock = Clock()
    async with _bot(tmp_path, standin, clock) as (bot, repo):
        position = Position(
            "BTC/USDT", "BTC", "USDT", Decimal("0.5"), Decimal(50_000), opened_ts_ms=T0
        )
        repo.save_position(position, stop_price=Decimal(95_000))
        # Act / Assert
        assert "no open position in ETH/USDT" in await _say(
            bot, standin, OPERATOR, "/forceexit ETH/USDT"
        )
        asked = await _say(bot, standin, OPERATOR, "/forceexit btc/usdt")
        code = asked.split("/confirm ")[1].split()[0]
        assert "Sell 0.5 BTC/USDT at market" in asked
        assert repo.get_control(FLATTEN_REQUEST) is None  # nothing done yet
        assert "wrong code" in await _say(bot, standin, OPERATOR, "/confirm 99999")
        asked = await _say(bot, standin, OPERATOR, "/forceexit all")
        code = asked.split("/confirm ")[1].split()[0]
        clock.s += 61
        assert "expired" in await _say(bot, standin, OPERATOR, f"/confirm {code}")
        assert repo.get_control(FLATTEN_REQUEST) is None
        asked = await _say(bot, standin, OPERATOR, "/forceexit all")
        code = asked.split("/confirm ")[1].split()[0]
        done = await _say(bot, standin, OPERATOR, f"/confirm {code}")
        assert "sells at market at its next cycle" in done
        assert repo.get_control(FLATTEN_REQUEST) == "1"


async def test_views_show_trades_balance_and_explain_escaped(
    tmp_path: Path, standin: TelegramStandIn
) -> None:
    async with _bot(tmp_path, standin, Clock()) as (bot, repo):
        reason = "take <profit> & co"
        trade = Trade("BTC/USDT", T0, T0 + 3_600_000, Decimal("0.1"), Decimal(100),
                      Decimal(110), Decimal("0.02"), Decimal("0.98"), reason)  # fmt: skip
        repo.record_trade(trade)
        repo.record_snapshot(PortfolioSnapshot(T0 + 3_600_000, Decimal(10_000), Decimal("10000.98"),
                                               Decimal(0), {"BTC/USDT": Decimal(0)}))  # fmt: skip
        trades = await _say(bot, standin, VIEWER, "/trades")
        assert "take &lt;profit&gt; &amp; co" in trades
        assert "+0.98" in trades
        assert "equity 10000.98" in await _say(bot, standin, VIEWER, "/balance")
        assert "BTC/USDT: +0.98 over 1 trades, 1 won" in await _say(
            bot, standin, VIEWER, "/performance"
        )
        assert "2024-12-01: 1 trades, 1 won, +0.98" in await _say(bot, standin, VIEWER, "/daily")
        assert "alerts: 0 pending" in await _say(bot, standin, VIEWER, "/health")
        assert "trade 1" in (await _say(bot, standin, VIEWER, "/explain 1")).lower()
        assert "kill switch ACTIVE" in await _say(bot, standin, VIEWER, "/locks")
        assert "unknown command /foo" in await _say(bot, standin, VIEWER, "/foo")
        assert standin.problems == []
