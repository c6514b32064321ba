"""The persisted controls a person uses on a running bot: stop, stop entries, flatten, resume.

``tradebot stop``/``resume``, the dashboard and the chat commands call these and nothing
else. They never touch a running engine: they write the control state the bot reads at its
next cycle (the kill switch, and the flatten request ``TradingBot`` acts on), and in the same
transaction one row of the audit trail (``control_actions``) saying who asked, in what role,
through which front end, and what the kill switch was before and after.

- stop entries: kill switch REDUCING, only orders that cut exposure are sent (exits, stops).
- stop: HALTED, no new orders; protective stops already resting stay.
- flatten: HALTED and a flatten request: the bot cancels all and sells at market next cycle.
- exit all: the flatten request alone; the kill switch stays as it is.
- resume: ACTIVE, and any pending flatten request is withdrawn.
- unlock (``lift_locks``): the protections' locks on a symbol, or all, are lifted; the bot
  hands the locks left to its engine at its next cycle. The kill switch is not touched.

``apply_control`` is the one way in; ``stop_trading``, ``stop_entries``, ``request_flatten``
and ``resume_trading`` name the common cases. ``source`` (``tradebot stop``,
``/stop by 42``) becomes the kill switch's reason, and the audit's actor when no ``who`` is
given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import structlog

from tradebot.domain.decisions import KillSwitch
from tradebot.orchestrator.continuity import FLATTEN_REQUEST
from tradebot.state.repository import Repository
from tradebot.state.rows import ControlRecord, SavedLock

log = structlog.get_logger("tradebot.controls")


class ControlAction(StrEnum):
    """What an operator may ask of a running (or stopped) bot."""

    STOP_ENTRIES = "stop_entries"
    STOP = "stop"
    FLATTEN = "flatten"
    EXIT_ALL = "exit_all"
    RESUME = "resume"

    @property
    def label(self) -> str:
        """The action in words."""
        return self.value.replace("_", " ")


# the kill switch each action sets (None: unchanged) and the flatten request it leaves
_LEVEL: dict[ControlAction, KillSwitch | None] = {
    ControlAction.STOP_ENTRIES: KillSwitch.REDUCING,
    ControlAction.STOP: KillSwitch.HALTED,
    ControlAction.FLATTEN: KillSwitch.HALTED,
    ControlAction.EXIT_ALL: None,
    ControlAction.RESUME: KillSwitch.ACTIVE,
}
_FLATTEN: dict[ControlAction, str | None] = {
    ControlAction.FLATTEN: "1",
    ControlAction.EXIT_ALL: "1",
    ControlAction.RESUME: "0",
}
_EFFECT = {
    ControlAction.STOP_ENTRIES: "the bot opens nothing new; exits and protective stops go on.",
    ControlAction.STOP: "the bot sends no new orders; protective stops stay.",
    ControlAction.FLATTEN: (
        "no new orders. Flatten requested: at its next cycle the bot cancels all and sells "
        "at market."
    ),
    ControlAction.EXIT_ALL: "at its next cycle the bot cancels all and sells at market.",
    ControlAction.RESUME: "the bot trades again from its next cycle.",
}


@dataclass(frozen=True, slots=True)
class Operator:
    """Who asks, in what role, through which front end, and from where."""

    name: str
    role: str = "operator"
    channel: str = ""
    client: str = ""


@dataclass(frozen=True, slots=True)
class ControlOutcome:
    """What a control did; ``was`` is the kill switch before, with its reason."""

    action: ControlAction
    before: KillSwitch
    after: KillSwitch
    flatten_requested: bool
    was: str
    message: str


def apply_control(
    repo: Repository, action: ControlAction, who: Operator, reason: str | None = None
) -> ControlOutcome:
    """Write the control state for ``action`` and its audit row, in one transaction.

    ``reason`` is saved as the kill switch's reason (default: the action and who asked).
    """
    level, flatten = _LEVEL[action], _FLATTEN.get(action)
    before, before_reason = repo.kill_switch(), repo.kill_switch_reason()
    after = before if level is None else level
    why = reason or f"{action.label} by {who.name}" + (f" ({who.channel})" if who.channel else "")
    with repo.transaction() as tx:
        if level is not None:
            tx.set_kill_switch(level, why)
        if flatten is not None:
            tx.set_control(FLATTEN_REQUEST, flatten)
        tx.record_control_action(_record(who, action, "done", before, after, why))
    log.warning(
        "operator control", action=action.value, user=who.name, role=who.role,
        channel=who.channel, client=who.client, before=before.value, after=after.value,
    )  # fmt: skip
    was = f"{before} ({before_reason})" if before_reason else f"{before}"
    message = f"kill switch {after} (was {was}): {_EFFECT[action]}"
    return ControlOutcome(action, before, after, flatten == "1", was, message)


def record_refusal(repo: Repository, action: ControlAction, who: Operator, why: str) -> None:
    """Write the audit row of a control someone asked for and was refused (a viewer's)."""
    level = repo.kill_switch()
    with repo.transaction() as tx:
        tx.record_control_action(_record(who, action, "refused", level, level, why))
    log.warning("operator control refused", action=action.value, user=who.name, why=why)


def stop_trading(
    repo: Repository, source: str, flatten: bool = False, who: Operator | None = None
) -> None:
    """Kill switch HALTED (no new orders; stops stay); with ``flatten`` also sell everything."""
    action = ControlAction.FLATTEN if flatten else ControlAction.STOP
    apply_control(repo, action, who or Operator(source), source)


def stop_entries(repo: Repository, source: str, who: Operator | None = None) -> None:
    """Kill switch REDUCING: only orders that cut exposure (exits, stops) are sent."""
    apply_control(repo, ControlAction.STOP_ENTRIES, who or Operator(source), source)


def request_flatten(repo: Repository, who: Operator | None = None) -> None:
    """Cancel every order and sell the positions at market at the next cycle."""
    apply_control(repo, ControlAction.EXIT_ALL, who or Operator("unnamed"))


def resume_trading(repo: Repository, source: str, who: Operator | None = None) -> str:
    """Kill switch ACTIVE, any flatten request withdrawn; returns what it was, with why."""
    return apply_control(repo, ControlAction.RESUME, who or Operator(source), source).was


def lift_locks(repo: Repository, symbol: str | None, who: Operator) -> list[SavedLock]:
    """Lift the locks on ``symbol`` (None: every lock) and write the audit row (action
    ``unlock``, naming each lock lifted) in one transaction; return the locks lifted."""
    level = repo.kill_switch()
    with repo.transaction() as tx:
        lifted = tx.remove_locks(symbol, who.name)
        what = "all locks" if symbol is None else f"locks on {symbol}"
        found = "; ".join(s.lock.describe() for s in lifted) or "none in force"
        tx.record_control_action(
            ControlRecord(0, who.name, who.role, who.channel, who.client, "unlock", "done",
                          level.value, level.value, f"unlock {what}: {found}")
        )  # fmt: skip
    log.warning("locks lifted", user=who.name, channel=who.channel, symbol=symbol or "all",
                count=len(lifted))  # fmt: skip
    return lifted


def flatten_requested(repo: Repository) -> bool:
    """True while a flatten request waits for the bot's next cycle."""
    return repo.get_control(FLATTEN_REQUEST) == "1"


def _record(
    who: Operator,
    action: ControlAction,
    outcome: str,
    before: KillSwitch,
    after: KillSwitch,
    why: str,
) -> ControlRecord:
    return ControlRecord(
        0, who.name, who.role, who.channel, who.client, action.value, outcome,
        before.value, after.value, why,
    )  # fmt: skip
